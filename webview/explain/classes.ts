// The top classes (radio list with probability bars) and the "Any class" dropdown.
import type { Prediction } from '../../src/shared/protocol';
import { percent } from '../../src/shared/format';
import { isNearUniform, spreadOf } from '../../src/shared/predictionSpread';
import { byId, h, setDropdown } from '../common/dom';
import { change, chosenRadio, type Dropdown, onRefresh, options, topClass, view } from './view';

const TOP_K = 5;

export function classesSection(): HTMLElement {
  onRefresh(() => {
    const c = options().classIndex ?? view.current?.classIndex ?? topClass();
    if (c === null || c === undefined) return;
    (byId('classes') as Dropdown).value = String(c);
    const other = byId<Dropdown>('other-class');
    if (other.value !== String(c)) other.value = String(c);
  });
  return h('section', { class: 'classes', 'aria-label': 'Predicted classes' },
    h('h2', {}, 'Top classes'),
    h('vscode-radio-group', { id: 'classes', orientation: 'vertical', onchange: (e) => {
      const v = chosenRadio(e);
      if (v !== null && v !== '') change({ classIndex: Number(v) });
    } }),
    h('div', { id: 'uniform-note', class: 'uniform-note', role: 'note', hidden: true }),
    h('div', { class: 'control' }, h('label', { for: 'other-class' }, 'Any class'),
      h('vscode-dropdown', { id: 'other-class', 'aria-label': 'Any class', onchange: (e) => {
        const v = (e.target as Dropdown).value;
        if (v !== '') change({ classIndex: Number(v) });
      } })),
  );
}

export function showPredictions(list: Prediction[]): void {
  view.predictions = list;
  const radios = byId('classes');
  radios.replaceChildren(
    h('label', { slot: 'label', class: 'sr-only' }, 'Top classes'),
    ...list.slice(0, TOP_K).map((p) =>
      h('vscode-radio', { value: String(p.index), id: `class-${p.index}`, 'data-probability': p.probability },
        h('span', { class: 'class-label', title: p.label }, p.label),
        h('span', { class: 'prob' }, percent(p.probability)),
        h('span', { class: 'prob-bar', 'aria-hidden': 'true' }, h('span', { class: 'prob-fill', 'data-p': p.probability })),
      ),
    ),
  );
  showUniformNote(list);
  // Widths through the CSSOM (the CSP allows no inline style attributes).
  for (const el of Array.from(radios.querySelectorAll<HTMLElement>('.prob-fill'))) el.style.width = `${Math.max(1, Number(el.dataset.p) * 100)}%`;
  setDropdown(byId<Dropdown>('other-class'), list.map((p) => ({ value: String(p.index), label: `${p.label} (${percent(p.probability)})` })), String(options().classIndex ?? list[0]?.index ?? ''));
}

/**
 * A prediction close to uniform usually means the pixels are scaled differently from training: say so
 * beside the classes, with one button per other preprocessing preset (nothing is switched by itself).
 */
function showUniformNote(list: Prediction[]): void {
  const note = byId('uniform-note');
  const s = spreadOf(list.map((p) => p.probability));
  const model = view.init?.model;
  if (!isNearUniform(s) || !model) {
    note.hidden = true;
    note.replaceChildren();
    return;
  }
  const chosen = options().preprocess;
  const current = chosen === 'auto' ? model.defaultPreprocess : chosen;
  const pct = (p: number) => percent(p);
  note.hidden = false;
  note.replaceChildren(
    h('span', {}, `Close to uniform: top-1 ${pct(s.top)} over ${s.classes} classes (chance ${pct(1 / s.classes)}). The pixels may not be scaled as the model was trained ('${current}' now). Try: `),
    ...model.preprocessPresets.filter((p) => p.name !== current).map((p) =>
      h('vscode-button', { appearance: 'secondary', class: 'preset-try', title: p.description, 'data-preset': p.name, onclick: () => change({ preprocess: p.name }) }, p.name)),
  );
}
