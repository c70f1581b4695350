// The settings of Deep Dream (layers, octaves, steps per octave) and Invert Features (layer, steps) in
// their panel, as the command line has them; Run applies them. Invert starts at the middle layer and
// says why.
import type { VisChoices, VisJob, VisSettings } from '../../src/shared/protocol';
import { DREAM_DEFAULT_OCTAVES, DREAM_DEFAULT_STEPS, INVERT_DEFAULT_STEPS } from '../../src/shared/protocol';
import { h } from '../common/dom';

const MIDDLE_REASON =
  'The middle layer by default: the last layers keep too little of where things are to rebuild the picture (their inversion is noise); the first ones copy the pixels.';

function numberField(id: string, label: string, value: number, min: number, max: number): HTMLElement {
  return h('div', { class: 'control' }, h('label', { for: id }, label), h('input', { id, type: 'number', min, max, step: 1, value, class: 'num-input' }));
}

function layerOptions(choices: VisChoices, selected: (path: string) => boolean): HTMLElement[] {
  return choices.layers.map((l) => h('option', { value: l.path, selected: selected(l.path), title: `${l.path} — ${l.detail}` }, `${l.name} · ${l.detail}`));
}

/** The settings form for the job, or null for kinds without settings (or before the layers are known). */
export function settingsForm(job: VisJob, choices: VisChoices | null | undefined): HTMLElement | null {
  if (!choices || (job.kind !== 'dream' && job.kind !== 'invert')) return null;
  const prefix = choices.prefix ? h('p', { class: 'muted small' }, `Layers of ${choices.prefix.replace(/\/$/, '')}`) : null;
  if (job.kind === 'dream') {
    const chosen = new Set(job.layers ?? []);
    return h('section', { id: 'settings', class: 'settings', 'aria-label': 'Deep Dream settings' },
      h('div', { class: 'control grow' },
        h('label', { for: 'dream-layers' }, 'Layers (none chosen: the default layers)'),
        h('select', { id: 'dream-layers', multiple: true, size: 5 }, ...layerOptions(choices, (p) => chosen.has(p))),
        prefix),
      numberField('octaves', 'Octaves', job.octaves ?? DREAM_DEFAULT_OCTAVES, 1, 12),
      numberField('steps', 'Steps per octave', job.steps ?? DREAM_DEFAULT_STEPS, 1, 200),
    );
  }
  const reason = h('p', { id: 'layer-reason', class: 'muted small', hidden: job.layer !== choices.middleLayer }, MIDDLE_REASON);
  const select = h('select', { id: 'invert-layer' }, ...layerOptions(choices, (p) => p === job.layer));
  select.addEventListener('change', () => (reason.hidden = (select as HTMLSelectElement).value !== choices.middleLayer));
  return h('section', { id: 'settings', class: 'settings', 'aria-label': 'Feature inversion settings' },
    h('div', { class: 'control grow' }, h('label', { for: 'invert-layer' }, 'Layer whose activations to match'), select, prefix, reason),
    numberField('steps', 'Steps', job.steps ?? INVERT_DEFAULT_STEPS, 1, 2000),
  );
}

/** What the form says now (sent with Run). */
export function currentSettings(): VisSettings | undefined {
  const form = document.getElementById('settings');
  if (!form) return undefined;
  const num = (id: string) => {
    const el = document.getElementById(id) as HTMLInputElement | null;
    const v = el ? Number(el.value) : NaN;
    return Number.isInteger(v) && v >= Number(el!.min) && v <= Number(el!.max) ? v : undefined;
  };
  const layers = document.getElementById('dream-layers') as HTMLSelectElement | null;
  const layer = document.getElementById('invert-layer') as HTMLSelectElement | null;
  return {
    layers: layers ? Array.from(layers.selectedOptions).map((o) => o.value) : undefined,
    layer: layer?.value || undefined,
    octaves: num('octaves'),
    steps: num('steps'),
  };
}
