// The group tree of a Keras saving_lib weights file (a .keras archive's model.weights.h5, a Keras 3
// .weights.h5) as Keras meant it, whatever separator wrote it. Keras 2.13–2.15 built each layer's group path
// with os.path.join, so on Windows a layer's group is one HDF5 group whose *name* holds the whole path with
// backslashes ("layers\dense", with "vars/0" below it; nested models "layers\sequential\layers\conv2d").
// Here both separators make levels of one tree, and the readers walk that tree.
import { fileError } from '../../errors';
import { isDataset, isGroup, type H5Dataset, type H5Group } from './h5';

export interface TreeGroup {
  children: Map<string, TreeGroup | H5Dataset>;
}

/** Most entries walked: a guard against hostile files with millions of groups (real models have thousands). */
const MAX_ENTRIES = 500_000;

export function isTreeGroup(e: unknown): e is TreeGroup {
  return !!e && (e as TreeGroup).children instanceof Map;
}

/**
 * The tree below `root`. Groups that hold no model weights (the optimizer's state, at the root) are left out.
 */
export function savingLibTree(root: H5Group, shownAs: string): TreeGroup {
  const top: TreeGroup = { children: new Map() };
  let entries = 0;
  const merge = (g: H5Group, into: TreeGroup, depth: number): void => {
    if (depth > 64) throw fileError(shownAs, 'weights file groups nest more than 64 levels deep');
    for (const key of g.keys()) {
      if (++entries > MAX_ENTRIES) throw fileError(shownAs, `weights file has more than ${MAX_ENTRIES} groups and arrays`);
      const parts = key.split('\\').filter((p) => p.length > 0);
      if (parts.length === 0) continue;
      if (depth === 0 && parts[0] === 'optimizer') continue;
      let node = into;
      for (const part of parts.slice(0, -1)) {
        let next = node.children.get(part);
        if (!isTreeGroup(next)) {
          next = { children: new Map() };
          node.children.set(part, next);
        }
        node = next;
      }
      const last = parts[parts.length - 1];
      // HDF5 damage met here is reported by loadKerasArtifacts as a damaged file.
      const e: unknown = g.get(key);
      if (isGroup(e)) {
        let sub = node.children.get(last);
        if (!isTreeGroup(sub)) {
          sub = { children: new Map() };
          node.children.set(last, sub);
        }
        merge(e, sub, depth + 1);
      } else if (isDataset(e)) {
        node.children.set(last, e);
      }
    }
  };
  merge(root, top, 0);
  return top;
}

/** The entry at a '/'-separated path below `g`, or null. */
export function treeAt(g: TreeGroup, p: string): TreeGroup | H5Dataset | null {
  let cur: TreeGroup | H5Dataset | null = g;
  for (const part of p.split('/').filter((s) => s.length > 0)) {
    if (!isTreeGroup(cur)) return null;
    cur = cur.children.get(part) ?? null;
  }
  return cur;
}
