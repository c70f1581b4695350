// A small check runner for the Playwright drivers: named checks, screenshots, a results file.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CheckResult {
  name: string;
  ok: boolean;
  skipped?: boolean;
  ms: number;
  detail?: string;
}

export class Harness {
  readonly results: CheckResult[] = [];

  constructor(readonly suite: string) {}

  /** Runs one check; a thrown error fails it (the message is recorded), the run goes on. */
  async check(name: string, body: () => Promise<string | void>): Promise<boolean> {
    const t0 = Date.now();
    try {
      const detail = await body();
      this.results.push({ name, ok: true, ms: Date.now() - t0, detail: detail || undefined });
      console.log(`  ✔ ${name}${detail ? ` — ${detail}` : ''} (${Date.now() - t0} ms)`);
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n').slice(0, 6).join('\n    ') : String(e);
      this.results.push({ name, ok: false, ms: Date.now() - t0, detail: msg });
      console.log(`  ✘ ${name} (${Date.now() - t0} ms)\n    ${msg}`);
      return false;
    }
  }

  skip(name: string, why: string): void {
    this.results.push({ name, ok: true, skipped: true, ms: 0, detail: why });
    console.log(`  - ${name}: skipped (${why})`);
  }

  write(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ suite: this.suite, results: this.results }, null, 2));
  }
}

export function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`environment variable ${name} is not set (run through scripts/e2e/run.sh)`);
  return v;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns a truthy value or the time is up. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await f();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
