// The manifest's wording (issue 17 item 16): every CNN Lens entry of a context menu says it is CNN Lens's
// ("CNN Lens: …" or inside the "CNN Lens" submenu), and every command in the palette has the category
// "CNN Lens" (the palette shows "CNN Lens: <title>"). Read from package.json itself.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';

interface Command { command: string; title: string; category?: string }
interface MenuEntry { command?: string; submenu?: string; when?: string }
interface Manifest { contributes: { commands: Command[]; submenus?: { id: string; label: string }[]; menus: Record<string, MenuEntry[]> } }

/** Menus VS Code shows without a command's category: the context menus and the editor title. */
const CONTEXT_MENUS = ['explorer/context', 'editor/title', 'editor/title/context', 'editor/context', 'webview/context'];

/** Problems with the manifest's menu wording, one line each (empty: none). */
function menuWordingProblems(pkg: Manifest): string[] {
  const problems: string[] = [];
  const commands = new Map(pkg.contributes.commands.map((c) => [c.command, c]));
  const submenus = new Map((pkg.contributes.submenus ?? []).map((s) => [s.id, s.label]));
  const menus = pkg.contributes.menus;
  const hidden = new Set((menus.commandPalette ?? []).filter((e) => e.when === 'false').map((e) => e.command));

  for (const c of pkg.contributes.commands) {
    if (hidden.has(c.command)) continue;
    if (c.category !== 'CNN Lens') problems.push(`${c.command}: in the palette without the category "CNN Lens"`);
    if (/^CNN Lens\b/.test(c.title)) problems.push(`${c.command}: the palette would read "CNN Lens: ${c.title}"`);
  }
  const visit = (menu: string, inside: string | null, seen: Set<string>) => {
    for (const e of menus[menu] ?? []) {
      if (e.submenu) {
        const label = submenus.get(e.submenu);
        if (label === undefined) problems.push(`${menu}: submenu ${e.submenu} is not declared`);
        else if (!inside && label !== 'CNN Lens') problems.push(`${menu}: submenu ${e.submenu} is labelled "${label}", not "CNN Lens"`);
        if (!seen.has(e.submenu)) visit(e.submenu, inside ?? label ?? null, new Set([...seen, e.submenu]));
        continue;
      }
      const c = e.command ? commands.get(e.command) : undefined;
      if (!c) {
        problems.push(`${menu}: ${e.command} is not a declared command`);
        continue;
      }
      if (inside !== 'CNN Lens' && !c.title.startsWith('CNN Lens: ')) problems.push(`${menu}: ${c.command} reads "${c.title}", without "CNN Lens: "`);
    }
  };
  for (const m of CONTEXT_MENUS) visit(m, null, new Set());
  return problems;
}

describe('package.json: menu and palette wording', () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as Manifest;

  it('every context-menu entry reads "CNN Lens: …" or sits in the "CNN Lens" submenu; every palette command has the category', () => {
    assert.deepEqual(menuWordingProblems(pkg), []);
  });

  it('the check finds a bare title in a context menu, a missing category and a doubled prefix', () => {
    const bad: Manifest = {
      contributes: {
        commands: [
          { command: 'a', title: 'Explain', category: 'CNN Lens' },
          { command: 'b', title: 'Open' },
          { command: 'c', title: 'CNN Lens: Go', category: 'CNN Lens' },
          { command: 'd', title: 'Inside', category: 'CNN Lens' },
          { command: 'e', title: 'Elsewhere', category: 'CNN Lens' },
        ],
        submenus: [{ id: 's', label: 'CNN Lens' }, { id: 't', label: 'Tools' }],
        menus: { 'explorer/context': [{ command: 'a' }, { submenu: 's' }, { submenu: 't' }], s: [{ command: 'd' }], t: [{ command: 'e' }] },
      },
    };
    assert.deepEqual(menuWordingProblems(bad), [
      'b: in the palette without the category "CNN Lens"',
      'c: the palette would read "CNN Lens: CNN Lens: Go"',
      'explorer/context: a reads "Explain", without "CNN Lens: "',
      'explorer/context: submenu t is labelled "Tools", not "CNN Lens"',
      't: e reads "Elsewhere", without "CNN Lens: "',
    ]);
  });

  it('the menus\' Grad-CAM alias is hidden from the palette and named like the palette entry', () => {
    const byId = new Map(pkg.contributes.commands.map((c) => [c.command, c]));
    assert.equal(byId.get('cnnLens.explainFromMenu')?.title, `CNN Lens: ${byId.get('cnnLens.explain')?.title}`);
    assert.ok(pkg.contributes.menus.commandPalette.some((e) => e.command === 'cnnLens.explainFromMenu' && e.when === 'false'));
  });
});
