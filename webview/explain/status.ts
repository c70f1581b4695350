// The status line under the options: what the panel is doing (spinner, words, progress, Cancel) or what
// went wrong (the message with what to do next). It keeps its height whether empty or not, so the
// figures below never jump when progress appears.
import { byId, h } from '../common/dom';
import { refresh, view, vscode } from './view';

export function statusLine(): HTMLElement {
  return h('div', { class: 'status-line' },
    h('div', { id: 'busy', class: 'busy', hidden: true, role: 'status', 'aria-live': 'polite' },
      h('vscode-progress-ring'), h('span', { id: 'busy-message' }), h('div', { class: 'bar' }, h('div', { id: 'busy-bar' })),
      h('vscode-button', { id: 'cancel', appearance: 'secondary', onclick: () => vscode.post({ type: 'cancel' }) }, 'Cancel'),
    ),
    h('div', { id: 'error', class: 'error', hidden: true, role: 'alert' }, h('span', { id: 'error-message' }),
      h('span', { class: 'error-actions' },
        h('vscode-button', { id: 'choose-model', appearance: 'primary', hidden: true, onclick: () => vscode.post({ type: 'selectModel' }) }, 'Choose another model…'),
        h('vscode-button', { id: 'retry', appearance: 'secondary', onclick: () => vscode.post({ type: 'retry' }) }, 'Retry'),
      )),
  );
}

export function showBusy(message: string, done?: number, total?: number): void {
  byId('busy').hidden = false;
  byId('busy-message').textContent = message;
  byId('busy-bar').style.width = done !== undefined && total ? `${Math.round((100 * done) / total)}%` : '0%';
  byId('error').hidden = true;
}

export function showIdle(): void {
  byId('busy').hidden = true;
}

/** An error; `fatal`: the model (or image) could not be loaded, so nothing else on the page can work. */
export function showError(message: string, fatal: boolean): void {
  byId('error').hidden = false;
  byId('error-message').textContent = message;
  byId('choose-model').hidden = !fatal;
  if (fatal !== view.failed) {
    view.failed = fatal;
    document.body.classList.toggle('failed', fatal);
    refresh();
  }
}

export function clearError(): void {
  byId('error').hidden = true;
  if (view.failed) {
    view.failed = false;
    document.body.classList.remove('failed');
    refresh();
  }
}
