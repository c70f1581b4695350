// Entry point VS Code loads as extensionTestsPath: runs every bundled *.test.js beside this file with
// mocha (BDD), inside the extension host, and writes the results to $E2E_HOST_RESULTS.
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Result { name: string; ok: boolean; skipped?: boolean; ms: number; detail?: string }

export async function run(): Promise<void> {
  const MochaCtor = (require('mocha') as { default: typeof import('mocha') }).default;
  const mocha = new MochaCtor({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  await mocha.loadFilesAsync();
  const results: Result[] = [];
  const out = process.env.E2E_HOST_RESULTS;
  const log = (s: string) => console.log(`[host-tests] ${s}`);
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('pass', (t) => {
      results.push({ name: t.fullTitle(), ok: true, ms: t.duration ?? 0 });
      log(`✔ ${t.fullTitle()} (${t.duration} ms)`);
    });
    runner.on('fail', (t, e) => {
      results.push({ name: t.fullTitle(), ok: false, ms: t.duration ?? 0, detail: String((e as Error)?.stack ?? e).split('\n').slice(0, 8).join('\n') });
      log(`✘ ${t.fullTitle()}: ${String((e as Error)?.message ?? e)}`);
    });
    runner.on('pending', (t) => {
      results.push({ name: t.fullTitle(), ok: true, skipped: true, ms: 0 });
      log(`- ${t.fullTitle()} (skipped)`);
    });
  });
  if (out) fs.writeFileSync(out, JSON.stringify({ suite: 'host', results }, null, 2));
  log(`${results.filter((r) => r.ok && !r.skipped).length} passing, ${failures} failing`);
  if (failures) throw new Error(`${failures} host test(s) failed`);
}
