// The Audit panel's page: the report (the same HTML as `cnn-lens audit`'s index.html, from
// src/shared/auditView.ts) re-rendered as it fills, with progress, Cancel, Run again and Export. A matrix
// cell shows its images; a mistake's "explain" link opens the explain panel on that image and class.
// Host side: src/extension/auditPanel.ts. Messages: ToAuditView / FromAuditView.
import './common/toolkit';
import './audit.css';
import type { AuditPanelState, FromAuditView, ToAuditView } from '../src/shared/auditProtocol';
import type { AuditReport } from '../src/shared/auditRecords';
import { AUDIT_CSS, relativeUrl, renderAuditBody } from '../src/shared/auditView';
import { byId, h } from './common/dom';
import { host } from './common/vscodeApi';

const vscode = host<FromAuditView, AuditPanelState>();

// The report's stylesheet, allowed by the page's nonce (the CSP forbids other inline styles).
const style = document.createElement('style');
style.nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
style.textContent = AUDIT_CSS;
document.head.append(style);

let openCell: string | null = null;
let lastReport: { report: AuditReport; imageBase: string } | null = null;
let pending = false;

function build(): void {
  byId('app').replaceChildren(
    h('section', { class: 'toolbar' },
      h('vscode-button', { id: 'cancel', appearance: 'secondary', onclick: () => vscode.post({ type: 'cancel' }) }, 'Cancel'),
      h('vscode-button', { id: 'run', appearance: 'secondary', onclick: () => vscode.post({ type: 'run' }) }, 'Run again'),
      h('vscode-button', { id: 'export', appearance: 'secondary', onclick: () => vscode.post({ type: 'export' }) }, 'Export report…'),
      h('span', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
    ),
    h('div', { class: 'progress', id: 'progress' }, h('div', { id: 'progress-bar' })),
    h('div', { id: 'report' }),
  );
  byId('report').addEventListener('click', onClick);
}

function showCell(id: string | null): void {
  for (const s of document.querySelectorAll('#report .cell.shown')) s.classList.remove('shown');
  openCell = id;
  if (!id) return;
  const el = document.getElementById(id);
  if (!el) return;
  el.classList.add('shown');
  el.scrollIntoView({ block: 'nearest' });
}

function onClick(e: Event): void {
  const a = (e.target as HTMLElement).closest('a');
  if (!a) return;
  e.preventDefault();
  if (a.dataset.explain !== undefined) {
    vscode.post({ type: 'explain', image: a.dataset.explain, classIndex: Number(a.dataset.class) });
    return;
  }
  if (a.dataset.cell) {
    const id = `cell-${a.dataset.cell}`;
    showCell(openCell === id ? null : id);
    return;
  }
  const href = a.getAttribute('href') ?? '';
  if (href.startsWith('#')) {
    const target = document.getElementById(href.slice(1));
    if (target) {
      target.scrollIntoView({ block: 'center' });
      target.classList.add('flash');
      setTimeout(() => target.classList.remove('flash'), 1200);
    }
  }
}

/** Re-renders at most once per animation frame; keeps the open matrix cell open. */
function render(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    if (!lastReport) return;
    const { report, imageBase } = lastReport;
    byId('report').innerHTML = renderAuditBody(report, { imageUrl: (f) => `${imageBase}/${relativeUrl(f)}`, live: true });
    if (openCell) showCell(openCell);
  });
}

function setRunning(running: boolean): void {
  (byId('cancel') as HTMLElement & { disabled: boolean }).disabled = !running;
  (byId('run') as HTMLElement & { disabled: boolean }).disabled = running;
  byId('progress').hidden = !running;
}

window.addEventListener('message', (ev: MessageEvent<ToAuditView>) => {
  const m = ev.data;
  switch (m.type) {
    case 'init':
      vscode.setState({ folder: m.folder, model: m.model });
      document.title = m.title;
      return;
    case 'report':
      lastReport = { report: m.report, imageBase: m.imageBase };
      (byId('export') as HTMLElement & { disabled: boolean }).disabled = false;
      render();
      return;
    case 'progress':
      byId('status').textContent = m.message;
      byId('progress-bar').style.width = `${m.total ? Math.round((100 * m.done) / m.total) : 0}%`;
      return;
    case 'state':
      setRunning(m.state === 'running');
      byId('status').textContent = m.state === 'running' ? 'Starting…' : m.state === 'done' ? 'Done.' : (m.message ?? (m.state === 'cancelled' ? 'Cancelled.' : 'Failed.'));
      byId('status').classList.toggle('error-text', m.state === 'error');
      return;
  }
});

build();
(byId('export') as HTMLElement & { disabled: boolean }).disabled = true;
vscode.post({ type: 'ready' });
