// The method control: the attribution methods the engine offers for this model.
import { h, setDropdown } from '../common/dom';
import { change, type Dropdown, onRefresh, options, view } from './view';

export function methodPicker(): HTMLElement {
  const el = h('vscode-dropdown', { id: 'method', 'aria-label': 'Method', onchange: (e) => change({ method: (e.target as Dropdown).value }) });
  onRefresh(() => {
    const d = el as Dropdown;
    if (d.childElementCount && d.value !== options().method) d.value = options().method;
    d.disabled = view.failed;
  });
  return el;
}

/** Fills the list when the model is known. */
export function fillMethods(el: HTMLElement): void {
  const b = view.init!.model;
  setDropdown(el as Dropdown, b.methods.map((x) => ({ value: x.name, label: x.title, title: x.paper })), options().method);
}
