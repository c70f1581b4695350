// A tiny element builder: h('vscode-button', { id: 'save', onclick: f }, 'Save').
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: (Node | string | null | undefined)[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v as EventListener);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no element #${id}`);
  return el as T;
}

/** Replaces the options of a toolkit dropdown and selects `value`. */
export function setDropdown(dropdown: HTMLElement & { value: string }, options: { value: string; label: string; title?: string }[], value: string): void {
  // Marking the option `selected` (rather than setting .value later) keeps the toolkit from firing a
  // change event of its own when it picks the new options up.
  dropdown.replaceChildren(...options.map((o) => h('vscode-option', { value: o.value, title: o.title, selected: o.value === value }, o.label)));
  dropdown.value = value;
}

/** Probabilities as the panels write them (one notation: src/shared/format.ts). */
export { percent } from '../../src/shared/format';
