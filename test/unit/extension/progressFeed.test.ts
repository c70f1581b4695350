import * as assert from 'node:assert/strict';
import { type FeedClock, ProgressFeed } from '../../../src/extension/progressFeed';
import { makeRng } from '../../../src/engine/random';

/** A clock the test moves by hand: timers run when their time is passed. */
function fakeClock() {
  let t = 0;
  let next = 1;
  const timers = new Map<number, { at: number; f: () => void }>();
  const clock: FeedClock = {
    now: () => t,
    setTimer: (f, ms) => {
      timers.set(next, { at: t + ms, f });
      return next++;
    },
    clearTimer: (h) => void timers.delete(h as number),
  };
  const advance = (to: number) => {
    for (;;) {
      const due = [...timers.entries()].filter(([, x]) => x.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      t = due[1].at;
      due[1].f();
    }
    t = to;
  };
  return { clock, advance, pending: () => timers.size };
}

describe('extension/progressFeed: one progress feed for a panel and its notification', () => {
  it('hands on at once, then the latest of a burst when the interval is up', () => {
    const { clock, advance } = fakeClock();
    const got: [number, number][] = [];
    const feed = new ProgressFeed<number>((p) => got.push([clock.now(), p]), 200, clock);
    feed.push(1);
    advance(50);
    feed.push(2);
    advance(120);
    feed.push(3);
    advance(250);
    feed.push(4);
    advance(700);
    feed.push(5);
    assert.deepEqual(got, [[0, 1], [200, 3], [400, 4], [700, 5]]);
  });

  it('random bursts: deliveries at least the interval apart, each the latest pushed, none left behind', () => {
    const rng = makeRng(3);
    for (let run = 0; run < 20; run++) {
      const { clock, advance, pending } = fakeClock();
      const pushes: number[] = [];
      const got: { t: number; p: number; latest: number }[] = [];
      // `latest`: what was pushed last when the feed hands on, counted here.
      const feed = new ProgressFeed<number>((p) => got.push({ t: clock.now(), p, latest: pushes.at(-1)! }), 150, clock);
      let t = 0;
      for (let i = 1; i <= 60; i++) {
        t += Math.floor(rng() * (rng() < 0.8 ? 30 : 400));
        advance(t);
        pushes.push(i);
        feed.push(i);
      }
      advance(t + 1000);
      for (let k = 1; k < got.length; k++) assert.ok(got[k].t - got[k - 1].t >= 150, `deliveries ${got[k - 1].t} and ${got[k].t}`);
      for (const d of got) assert.equal(d.p, d.latest, `at ${d.t}`);
      assert.equal(got.at(-1)!.p, 60, 'the last push is handed on');
      assert.equal(pending(), 0);
    }
  });

  it('stop: a held update is dropped and nothing more is handed on', () => {
    const { clock, advance, pending } = fakeClock();
    const got: number[] = [];
    const feed = new ProgressFeed<number>((p) => got.push(p), 200, clock);
    feed.push(1);
    advance(10);
    feed.push(2);
    feed.stop();
    assert.equal(pending(), 0);
    advance(1000);
    feed.push(3);
    assert.deepEqual(got, [1]);
  });
});
