// The explain panel's Compare view and Sanity check, driven in the browser (called from ui.ts after the
// single-view checks): the grid fills with ≥ 6 cells, scoring adds AUCs and frames a best cell per row,
// a click opens the cell in the single view, and the sanity strip fills in with its verdict.
import type { Frame, Page } from 'playwright-core';
import type { Harness } from './harness';

export async function trustChecks(h: Harness, page: Page, fr: Frame, shot: (n: string) => Promise<unknown>): Promise<void> {
  await h.check('Compare: top-2 classes × 3 methods fill a grid of ≥ 6 cells', async () => {
    await fr.locator('#tab-compare').click();
    await fr.locator('#compare:not([hidden])').waitFor({ timeout: 10_000 });
    // Compare shows the methods ticked in its own list: the single view's method control is not offered.
    if (await fr.locator('.control-method').isVisible()) throw new Error('the Method dropdown is still shown in Compare mode');
    await fr.selectOption('#compare-topk', '2');
    await fr.waitForFunction(() => Number((document.getElementById('compare-grid') as HTMLElement).dataset.cells ?? 0) >= 6, undefined, { timeout: 120_000 });
    // Every cell's heatmap has decoded.
    await fr.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.compare-heat')].every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 10_000 });
    const n = await fr.locator('button.compare-cell').count();
    const heads = await fr.locator('.compare-colhead').allTextContents();
    if (n < 6) throw new Error(`${n} cells`);
    return `${n} cells; columns ${heads.join(', ')}`;
  });

  await h.check('Compare: Score faithfulness adds deletion/insertion AUCs and frames the best cell of each row', async () => {
    await fr.locator('#compare-score').click();
    await fr.waitForFunction(() => document.querySelectorAll('.compare-scores').length >= 6 && !!document.querySelector('.compare-random'), undefined, { timeout: 180_000 });
    await fr.locator('#trust-busy[hidden]').waitFor({ state: 'attached', timeout: 30_000 });
    const best = await fr.locator('button.compare-cell.best').count();
    if (best !== 2) throw new Error(`${best} best cells for 2 rows`);
    await shot('10-compare-grid.png');
    return (await fr.locator('.compare-caption').first().textContent()) ?? '';
  });

  await h.check('Compare: clicking a cell opens it in the single view', async () => {
    const cell = fr.locator('button.compare-cell').nth(1);
    const method = await cell.getAttribute('data-method');
    const classIndex = await cell.getAttribute('data-class-index');
    await cell.click();
    await fr.waitForFunction(
      ([m, c]) => {
        const img = document.getElementById('heatmap') as HTMLImageElement | null;
        return !document.body.classList.contains('compare-mode') && img?.dataset.method === m && img?.dataset.classIndex === c && img.complete;
      },
      [method, classIndex],
      { timeout: 60_000 },
    );
    if (!(await fr.locator('.control-method').isVisible())) throw new Error('the Method dropdown is not back in the single view');
    return `${method} for class ${classIndex}`;
  });

  await h.check('Sanity check: the stage strip fills in and the verdict is said in words', async () => {
    await fr.locator('#sanity-run').click();
    await fr.locator('#sanity:not([hidden])').waitFor({ timeout: 10_000 });
    await fr.waitForFunction(() => document.querySelectorAll('.sanity-stage img').length >= 2, undefined, { timeout: 60_000 });
    await fr.waitForFunction(() => (document.getElementById('sanity') as HTMLElement).dataset.done === 'true', undefined, { timeout: 180_000 });
    const stages = await fr.locator('.sanity-stage img').count();
    const verdict = (await fr.textContent('#sanity-verdict')) ?? '';
    if (!/(passes|fails) the sanity check/.test(verdict)) throw new Error(`verdict: ${verdict}`);
    await fr.$eval('#sanity-title', (e) => e.scrollIntoView({ block: 'start' }));
    await shot('11-sanity-strip.png');
    void page;
    return `${stages} maps; ${verdict.slice(0, 120)}`;
  });
}
