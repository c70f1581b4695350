// The method control: every attribution method, grouped (CAM family, gradients, perturbation) with its
// one-line description and paper as tooltip; a method that cannot apply to this model is disabled with the
// reason as its tooltip. Names and groups: src/shared/methods.ts.
import { METHOD_GROUPS } from '../../src/shared/methods';
import { h } from '../common/dom';
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
  const methods = view.init!.model.methods;
  const chosen = options().method;
  const items: HTMLElement[] = [];
  for (const g of METHOD_GROUPS) {
    const inGroup = methods.filter((m) => (m.group ?? 'cam') === g.id);
    if (!inGroup.length) continue;
    // The toolkit's dropdown has no option groups: a disabled heading row stands for one.
    items.push(h('vscode-option', { class: 'method-group', disabled: true, value: `group:${g.id}`, 'aria-hidden': 'true' }, `— ${g.title} —`));
    for (const m of inGroup) {
      const tip = m.unavailable ?? `${m.description ?? ''}${m.classIndependent ? ' The same map for every class.' : ''}\n${m.paper}`;
      items.push(h('vscode-option', { value: m.name, title: tip, disabled: !!m.unavailable, selected: m.name === chosen, 'data-group': g.id },
        m.title + (m.classIndependent ? ' (class-independent)' : '') + (m.unavailable ? ' (not for this model)' : '')));
    }
  }
  el.replaceChildren(...items);
  (el as Dropdown).value = chosen;
}
