// The target-layer picker: a combobox (type to filter, ↑/↓ to move, Enter to choose, Escape to close)
// over the model's layers, the prefix every layer shares dropped, the default first, explainable layers
// marked ◆ and the others listed but not choosable. Models have hundreds of layers: a plain dropdown of
// full paths was unusable.
import { type LayerChoice } from '../../src/shared/format';
import { h } from '../common/dom';

export interface LayerPicker {
  element: HTMLElement;
  /** Replaces the rows; `value` is the chosen path ('' or null: the default). */
  setChoices(choices: LayerChoice[], prefix: string, value: string | null): void;
  setValue(value: string | null): void;
  setDisabled(disabled: boolean, why?: string): void;
}

export function layerPicker(id: string, onChoose: (path: string | null) => void): LayerPicker {
  let choices: LayerChoice[] = [];
  let shown: LayerChoice[] = [];
  let value: string | null = null;
  let active = -1;
  const input = h('input', {
    id,
    type: 'text',
    role: 'combobox',
    class: 'combo-input',
    'aria-label': 'Layer',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': `${id}-list`,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Type to filter layers…',
  });
  const list = h('ul', { id: `${id}-list`, role: 'listbox', class: 'combo-list', hidden: true, 'aria-label': 'Layers' });
  const prefixNote = h('div', { class: 'combo-prefix muted', id: `${id}-prefix` });
  const element = h('div', { class: 'combo' }, input, list, prefixNote);

  const defaultChoice = () => choices.find((c) => c.isDefault);
  const labelOf = (v: string | null) => {
    const c = v ? choices.find((x) => x.value === v) : defaultChoice();
    if (!c) return v ?? '';
    return `${c.name}${c.isDefault ? ' (default)' : ''}`;
  };

  function render(): void {
    const q = input.value.trim().toLowerCase();
    const typed = q && q !== labelOf(value).toLowerCase();
    shown = typed ? choices.filter((c) => `${c.name} ${c.detail}`.toLowerCase().includes(q)) : choices;
    list.replaceChildren(
      ...shown.map((c, i) =>
        h('li', {
          role: 'option',
          id: `${id}-opt-${i}`,
          class: `combo-option${c.explainable ? ' explainable' : ' not-explainable'}${i === active ? ' active' : ''}`,
          'data-value': c.value,
          'aria-selected': String((value ?? defaultChoice()?.value) === c.value),
          'aria-disabled': c.explainable ? undefined : 'true',
          title: c.explainable ? `${c.name} — ${c.detail}` : `${c.name} — not a target: its output has no spatial grid (Grad-CAM and the other layer methods need one)`,
          onmousedown: (e) => e.preventDefault(),
          onclick: () => choose(i),
        },
          h('span', { class: 'mark', 'aria-hidden': 'true' }, c.explainable ? '◆' : ''),
          h('span', { class: 'opt-name' }, c.name, c.isDefault ? h('span', { class: 'default-tag' }, ' default') : null),
          h('span', { class: 'opt-detail' }, c.explainable ? c.detail : `${c.detail} · no spatial grid`),
        ),
      ),
      ...(shown.length ? [] : [h('li', { class: 'combo-empty muted', role: 'presentation' }, `No layer matches '${input.value.trim()}'`)]),
      ...(choices.some((c) => !c.explainable) ? [h('li', { class: 'combo-legend muted', role: 'presentation' }, h('span', { class: 'mark' }, '◆'), ' target of the layer methods · dimmed: no spatial grid')] : []),
    );
    if (active >= 0) input.setAttribute('aria-activedescendant', `${id}-opt-${active}`);
    else input.removeAttribute('aria-activedescendant');
    list.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  }

  function open(): void {
    if (!list.hidden) return;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    const cur = value ?? defaultChoice()?.value;
    active = Math.max(0, choices.findIndex((c) => c.value === cur));
    render();
  }

  function close(revert: boolean): void {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
    if (revert) input.value = labelOf(value);
  }

  function choose(i: number): void {
    const c = shown[i];
    if (!c || !c.explainable) return;
    value = c.isDefault ? null : c.value;
    close(true);
    onChoose(value);
  }

  /** Moves to the next row that can be chosen (layers that are not targets are passed over). */
  function move(delta: number): void {
    for (let i = active + delta; i >= 0 && i < shown.length; i += delta) {
      if (shown[i].explainable) {
        active = i;
        render();
        return;
      }
    }
  }

  input.addEventListener('focus', () => input.select());
  input.addEventListener('click', () => open());
  input.addEventListener('input', () => {
    open();
    // The first match that can be chosen is the one Enter takes (none when only non-targets match).
    active = -1;
    render();
    active = shown.findIndex((c) => c.explainable);
    render();
  });
  input.addEventListener('blur', () => close(true));
  input.addEventListener('keydown', (e) => {
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (list.hidden) open();
        else move(1);
        return;
      case 'ArrowUp':
        e.preventDefault();
        if (list.hidden) open();
        else move(-1);
        return;
      case 'Enter':
        if (!list.hidden) {
          e.preventDefault();
          choose(active);
        }
        return;
      case 'Escape':
        if (!list.hidden) {
          e.preventDefault();
          e.stopPropagation();
          close(true);
        }
        return;
    }
  });

  return {
    element,
    setChoices(next, prefix, v) {
      choices = next;
      value = v || null;
      prefixNote.textContent = prefix ? `in ${prefix.replace(/\/$/, '')}` : '';
      prefixNote.title = prefix ? `Every layer's path starts with ${prefix}` : '';
      input.value = labelOf(value);
      if (!list.hidden) render();
    },
    setValue(v) {
      value = v || null;
      if (list.hidden) input.value = labelOf(value);
    },
    setDisabled(disabled, why) {
      (input as HTMLInputElement).disabled = disabled;
      input.title = disabled ? (why ?? '') : '';
      if (disabled) close(true);
    },
  };
}
