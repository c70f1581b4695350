// One progress feed for a panel and its progress notification, so that both say the same step at the same
// time. VS Code passes a notification's reports on at most every 100 ms (the extension host merges the ones in
// between and sends them later), while the panel got every engine message at once: on fast steps the
// notification read 'Step 2' when the panel already said 'Step 5'. The feed hands on the latest progress at
// most every `intervalMs` (longer than VS Code's 100 ms, so each hand-on reaches the notification at once),
// and the last one of a burst when its interval is up: nothing is lost, both ends get the same values.
// No vscode import: the clock and the timer are given (tests pass fake ones).

export interface FeedClock {
  now(): number;
  setTimer(f: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

const realClock: FeedClock = {
  now: () => performance.now(),
  setTimer: (f, ms) => setTimeout(f, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class ProgressFeed<P> {
  private last = -Infinity;
  private pending: P | null = null;
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly deliver: (p: P) => void,
    private readonly intervalMs = 200,
    private readonly clock: FeedClock = realClock,
  ) {}

  push(p: P): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (this.timer === null && now - this.last >= this.intervalMs) {
      this.last = now;
      this.deliver(p);
      return;
    }
    this.pending = p;
    this.timer ??= this.clock.setTimer(() => this.flush(), this.intervalMs - (now - this.last));
  }

  private flush(): void {
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    if (p === null || this.stopped) return;
    this.last = this.clock.now();
    this.deliver(p);
  }

  /** The run ended: nothing more is handed on (its end replaces the progress). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
