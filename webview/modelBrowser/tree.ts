// The layer tree: the WAI-ARIA tree pattern over a flat list of rows (role="treeitem" with aria-level,
// aria-expanded on nested models, aria-selected, one row in the Tab order). Keys: ↓/↑ move over the
// visible rows, → expands a collapsed group or moves into it, ← collapses an expanded group or moves to
// its parent, Home/End, Enter/Space select. A click selects; the twisty toggles.
import type { LayerNode } from '../../src/shared/protocol';
import { shapeText } from '../../src/shared/format';
import { h } from '../common/dom';

interface Row {
  node: LayerNode;
  depth: number;
  parent: Row | null;
  el: HTMLElement;
}

export interface TreeCallbacks {
  onSelect(node: LayerNode): void;
  onExpandedChange(expanded: string[]): void;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export class LayerTree {
  private rows: Row[] = [];
  private readonly byPath = new Map<string, Row>();
  private expanded = new Set<string>();
  private selected: string | null = null;
  private focused: string | null = null;

  constructor(
    readonly element: HTMLElement,
    private readonly cb: TreeCallbacks,
  ) {
    element.setAttribute('role', 'tree');
    element.addEventListener('keydown', (e) => this.onKey(e));
    // Focus that arrives by mouse or by script makes that row the one in the Tab order.
    element.addEventListener('focusin', (e) => {
      const path = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]')?.dataset.path;
      if (path && path !== this.focused && this.byPath.has(path)) {
        this.focused = path;
        for (const r of this.rows) r.el.tabIndex = r.node.path === path ? 0 : -1;
      }
    });
  }

  show(layers: LayerNode[], expanded: string[], selected: string | null): void {
    this.expanded = new Set(expanded);
    this.selected = selected;
    this.rows = [];
    this.byPath.clear();
    const walk = (nodes: LayerNode[], depth: number, parent: Row | null) => {
      nodes.forEach((n, i) => {
        const row: Row = { node: n, depth, parent, el: this.rowElement(n, depth, i + 1, nodes.length) };
        this.rows.push(row);
        this.byPath.set(n.path, row);
        if (n.children) walk(n.children, depth + 1, row);
      });
    };
    walk(layers, 0, null);
    this.element.replaceChildren(...this.rows.map((r) => r.el));
    this.focused = selected && this.byPath.has(selected) ? selected : (this.rows[0]?.node.path ?? null);
    this.refresh();
  }

  private rowElement(n: LayerNode, depth: number, pos: number, size: number): HTMLElement {
    const group = !!n.children;
    const twisty = group
      ? h('span', { class: 'twisty', 'aria-hidden': 'true', title: 'Expand or collapse', onclick: (e) => {
          e.stopPropagation();
          this.toggle(n.path);
        } })
      : h('span', { class: 'twisty leaf', 'aria-hidden': 'true' });
    const label = group ? `${n.name} (${n.className}, ${n.children!.length} layers)` : `${n.name}, ${n.className}, output ${shapeText(n.outputShape?.slice(1))}${n.spatial ? ', explainable' : ''}`;
    return h('div', {
      class: `row ${group ? 'group kind-container' : 'layer'} kind-${n.kind} depth-${Math.min(depth, 8)}${n.spatial ? ' spatial' : ''}`,
      role: 'treeitem',
      'aria-level': depth + 1,
      'aria-posinset': pos,
      'aria-setsize': size,
      'aria-label': label,
      'data-path': n.path,
      'data-kind': n.kind,
      tabindex: -1,
      onclick: () => {
        this.focus(n.path);
        this.select(n.path);
      },
    },
      h('span', { class: 'name', title: n.path }, twisty, h('span', { class: 'name-text' }, n.name)),
      h('span', { class: 'cls', title: n.className }, n.className),
      h('span', { class: 'shape' }, shapeText(n.outputShape?.slice(1))),
      h('span', { class: 'num' }, fmt(n.params)),
    );
  }

  private visible(r: Row): boolean {
    for (let p = r.parent; p; p = p.parent) if (!this.expanded.has(p.node.path)) return false;
    return true;
  }

  private refresh(): void {
    for (const r of this.rows) {
      const vis = this.visible(r);
      r.el.hidden = !vis;
      if (r.node.children) r.el.setAttribute('aria-expanded', String(this.expanded.has(r.node.path)));
      const sel = r.node.path === this.selected;
      r.el.classList.toggle('selected', sel);
      r.el.setAttribute('aria-selected', String(sel));
      r.el.tabIndex = r.node.path === this.focused ? 0 : -1;
    }
    // The focused row may have been hidden by a collapse: its nearest visible ancestor takes over.
    const f = this.focused ? this.byPath.get(this.focused) : undefined;
    if (f && !this.visible(f)) {
      let p = f.parent;
      while (p && !this.visible(p)) p = p.parent;
      if (p) {
        this.focused = p.node.path;
        for (const r of this.rows) r.el.tabIndex = r === p ? 0 : -1;
      }
    }
  }

  select(path: string): void {
    const r = this.byPath.get(path);
    if (!r) return;
    this.selected = path;
    this.refresh();
    this.cb.onSelect(r.node);
  }

  focus(path: string): void {
    const r = this.byPath.get(path);
    if (!r) return;
    this.focused = path;
    for (const x of this.rows) x.el.tabIndex = x === r ? 0 : -1;
    r.el.focus();
  }

  toggle(path: string, open?: boolean): void {
    const want = open ?? !this.expanded.has(path);
    if (want) this.expanded.add(path);
    else this.expanded.delete(path);
    this.refresh();
    this.cb.onExpandedChange([...this.expanded]);
  }

  private onKey(e: KeyboardEvent): void {
    const cur = this.focused ? this.byPath.get(this.focused) : undefined;
    if (!cur) return;
    const visible = this.rows.filter((r) => this.visible(r));
    const i = visible.indexOf(cur);
    const go = (r: Row | undefined) => {
      if (r) this.focus(r.node.path);
    };
    const group = !!cur.node.children;
    const open = this.expanded.has(cur.node.path);
    switch (e.key) {
      case 'ArrowDown':
        go(visible[i + 1]);
        break;
      case 'ArrowUp':
        go(visible[i - 1]);
        break;
      case 'Home':
        go(visible[0]);
        break;
      case 'End':
        go(visible.at(-1));
        break;
      case 'ArrowRight':
        if (group && !open) this.toggle(cur.node.path, true);
        else if (group) go(visible[i + 1]);
        break;
      case 'ArrowLeft':
        if (group && open) this.toggle(cur.node.path, false);
        else go(cur.parent ?? undefined);
        break;
      case 'Enter':
      case ' ':
        this.select(cur.node.path);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
