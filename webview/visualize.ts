// A feature-visualization panel's page: frames (Deep Dream, class, inversion) or filter tiles stream in
// while the engine optimizes; step count, progress, Cancel, Run again and Save.
// Host side: src/extension/visualizePanel.ts. Messages: ToVisualizeView / FromVisualizeView.
import './common/toolkit';
import './visualize.css';
import type { FromVisualizeView, PngImage, ToVisualizeView, VisJob } from '../src/shared/protocol';
import { byId, h } from './common/dom';
import { host } from './common/vscodeApi';
import { currentSettings, settingsForm } from './visualize/settings';
import { aboutDuration } from '../src/shared/runEstimate';

const vscode = host<FromVisualizeView, { job: VisJob }>();
const urls = new Set<string>();

function blobUrl(img: PngImage): string {
  const u = URL.createObjectURL(new Blob([img.png as BlobPart], { type: 'image/png' }));
  urls.add(u);
  return u;
}

function release(u: string | undefined): void {
  if (u && urls.delete(u)) URL.revokeObjectURL(u);
}

function build(): void {
  byId('app').replaceChildren(
    h('header', {}, h('div', { class: 'title', id: 'title' }), h('div', { class: 'muted', id: 'subtitle' })),
    h('section', { class: 'toolbar' },
      h('vscode-button', { id: 'cancel', appearance: 'secondary', onclick: () => vscode.post({ type: 'cancel' }) }, 'Cancel'),
      h('vscode-button', { id: 'run', appearance: 'secondary', onclick: () => vscode.post({ type: 'run', settings: currentSettings() }) }, 'Run again'),
      h('vscode-button', { id: 'save', appearance: 'secondary', onclick: () => vscode.post({ type: 'save' }) }, 'Save PNG…'),
      h('span', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
    ),
    h('div', { id: 'settings-slot' }),
    h('p', { id: 'estimate', class: 'estimate muted', hidden: true }),
    h('div', { class: 'progress', 'aria-hidden': 'true' }, h('div', { id: 'bar' })),
    h('div', { id: 'error', class: 'error', hidden: true, role: 'alert' }, h('span', { id: 'error-message' })),
    h('main', {},
      h('figure', { id: 'source-figure', hidden: true }, h('img', { id: 'source', alt: 'the input image' }), h('figcaption', {}, 'input')),
      h('figure', { id: 'frame-figure', hidden: true }, h('img', { id: 'frame', alt: 'the latest frame' }), h('figcaption', { id: 'frame-caption' })),
      h('div', { id: 'tiles', class: 'tiles', hidden: true }),
    ),
    h('section', { id: 'strip-section', hidden: true, 'aria-label': 'Frames so far' }, h('h2', {}, 'Frames'), h('div', { id: 'strip', class: 'strip' })),
    h('p', { id: 'description', class: 'muted' }),
  );
}

function setRunning(running: boolean): void {
  (byId('cancel') as HTMLElement & { disabled: boolean }).disabled = !running;
  (byId('run') as HTMLElement & { disabled: boolean }).disabled = running;
}

function status(text: string): void {
  byId('status').textContent = text;
}

let frames = 0;
/** The host's progress line ("Step 47 of 64 · octave 3 of 4"): the progress notification shows the same. */
let stepText = '';
/** This run's estimate (ms) from timed steps, said beside the time it took when it is done. */
let estimateMs: number | null = null;

/** The run on show; messages from older runs (late frames of a cancelled one) are dropped. */
let currentRun = 0;
/** Whether the run on show has ended: frames that arrive late must not overwrite the final status. */
let runEnded = false;

/**
 * An estimate of the time left from the steps' pace so far, shown from the third step on (the first step
 * includes warming up the backend): "· about 40 s left".
 */
let pace: { done: number; t: number } | null = null;
function remaining(done: number, total: number): string {
  const now = performance.now();
  if (!pace || done < pace.done) pace = { done, t: now };
  if (done === pace.done) return '';
  if (done < 3) {
    pace = { done, t: now };
    return '';
  }
  const perStep = (now - pace.t) / (done - pace.done);
  const left = (total - done) * perStep;
  if (!(left > 0)) return '';
  const s = left / 1000;
  return ` · about ${s < 90 ? `${Math.max(1, Math.round(s))} s` : `${Math.round(s / 60)} min`} left`;
}

window.addEventListener('message', (e: MessageEvent<ToVisualizeView>) => {
  const m = e.data;
  if (m.type !== 'init') {
    if (m.run < currentRun) return;
    if (m.type !== 'started' && m.run > currentRun) return;
  }
  switch (m.type) {
    case 'init': {
      vscode.setState({ job: m.job });
      document.body.dataset.kind = m.job.kind;
      byId('title').textContent = m.title;
      byId('subtitle').textContent = m.subtitle;
      {
        const form = settingsForm(m.job, m.choices);
        byId('settings-slot').replaceChildren(...(form ? [form] : []));
      }
      if (m.imageUri) {
        byId<HTMLImageElement>('source').src = m.imageUri;
        byId('source-figure').hidden = false;
      }
      const tiles = byId('tiles');
      tiles.hidden = m.tileCount === 0;
      if (m.tileCount > 0 && m.job.kind === 'filters') {
        const first = m.job.first;
        tiles.replaceChildren(
          ...Array.from({ length: m.tileCount }, (_, i) =>
            h('figure', { class: 'tile pending', id: `tile-${first + i}`, 'data-channel': first + i }, h('div', { class: 'placeholder' }), h('figcaption', {}, `#${first + i}`)),
          ),
        );
      }
      if (currentRun === 0) {
        setRunning(false);
        status('Ready.');
        // Nothing ran in this page yet (a panel restored after a reload): the button runs, not "again".
        byId('run').textContent = 'Run';
      }
      return;
    }
    case 'started':
      if (m.run === currentRun) {
        // The host replays a run the page already knows (it was posted before the page was ready).
        setRunning(!runEnded);
        return;
      }
      currentRun = m.run;
      runEnded = false;
      pace = null;
      stepText = '';
      byId('run').textContent = 'Run again';
      frames = 0;
      byId('strip').replaceChildren();
      // The last run's image stays in place (no jump in the layout) until this run's first frame, marked as old.
      if (!byId('frame-figure').hidden) {
        byId('frame-figure').classList.add('stale');
        byId('frame-caption').textContent = 'previous run (this run shows its first frame shortly)';
      }
      byId('error').hidden = true;
      byId('description').textContent = '';
      estimateMs = null;
      byId('estimate').hidden = true;
      for (const t of Array.from(document.querySelectorAll('.tile'))) {
        t.classList.add('pending');
        const img = t.querySelector('img');
        if (img) {
          release(img.src);
          img.replaceWith(h('div', { class: 'placeholder' }));
        }
      }
      setRunning(true);
      status('Starting…');
      return;
    case 'estimate':
      estimateMs = m.ms;
      byId('estimate').textContent = `Estimate: ${m.text}`;
      byId('estimate').hidden = false;
      if (!runEnded && byId('status').textContent === 'Starting…') status(`Starting… (${m.text.split(':')[0]})`);
      return;
    case 'progress':
      if (runEnded) return;
      byId('bar').style.width = `${m.total ? Math.round((100 * m.done) / m.total) : 0}%`;
      stepText = m.message ?? `Step ${m.done} of ${m.total}`;
      status(`${stepText}${frames ? ` · ${frames} frame${frames === 1 ? '' : 's'}` : ''}${remaining(m.done, m.total)}`);
      return;
    case 'frame': {
      frames = m.index;
      const big = byId<HTMLImageElement>('frame');
      const u = blobUrl(m.image);
      big.src = u;
      big.dataset.frames = String(m.index);
      byId('frame-figure').hidden = false;
      byId('frame-figure').classList.remove('stale');
      byId('frame-caption').textContent = `frame ${m.index} · step ${m.step}${m.total ? ` of ${m.total}` : ''}`;
      // The engine sends a frame's progress before the frame: the step line is this frame's.
      if (m.total && !runEnded) status(`${stepText || `Step ${m.step} of ${m.total}`} · ${m.index} frame${m.index === 1 ? '' : 's'}`);
      const strip = byId('strip');
      strip.append(h('img', { src: u, class: 'thumb', alt: `frame ${m.index}`, title: `step ${m.step}` }));
      // Keep the strip (and memory) bounded.
      while (strip.childElementCount > 40) {
        const old = strip.firstElementChild as HTMLImageElement;
        old.remove();
        if (old.src !== big.src) release(old.src);
      }
      byId('strip-section').hidden = false;
      return;
    }
    case 'tile': {
      const fig = document.getElementById(`tile-${m.channel}`);
      if (!fig) return;
      fig.classList.remove('pending');
      const img = h('img', { src: blobUrl(m.image), alt: `channel ${m.channel}`, title: m.note ?? `channel ${m.channel}: mean activation ${m.objective.toFixed(3)}` });
      fig.querySelector('.placeholder, img')?.replaceWith(img);
      // A dead or input-independent channel: its image is leftover noise; the caption says why.
      fig.classList.toggle('degenerate', !!m.note);
      const cap = fig.querySelector('figcaption');
      if (cap) cap.textContent = m.note ? `#${m.channel} · ${/dead unit/.test(m.note) ? 'dead: never activates' : 'flat: ignores the image'}` : `#${m.channel}`;
      if (!runEnded) status(`${document.querySelectorAll('.tile:not(.pending)').length} of ${document.querySelectorAll('.tile').length} channels`);
      return;
    }
    case 'done':
      runEnded = true;
      setRunning(false);
      byId('bar').style.width = '100%';
      status(`Done in ${(m.ms / 1000).toFixed(1)} s${estimateMs !== null ? ` (estimated ${aboutDuration(estimateMs).replace(/^about /, '')})` : ''}.`);
      byId('description').textContent = m.description;
      if (m.image) {
        byId<HTMLImageElement>('frame').src = blobUrl(m.image);
        byId('frame-figure').hidden = false;
        byId('frame-figure').classList.remove('stale');
        byId('frame-caption').textContent = 'result';
      }
      return;
    case 'cancelled':
      runEnded = true;
      setRunning(false);
      status('Cancelled.');
      return;
    case 'error':
      runEnded = true;
      setRunning(false);
      status('Stopped.');
      byId('error').hidden = false;
      byId('error-message').textContent = m.message;
      return;
  }
});

build();
vscode.post({ type: 'ready' });
