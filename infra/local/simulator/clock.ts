/**
 * The simulator's notion of time. Everything time-based (task start, health checks, alarm
 * periods, token buckets, stopped-task retention) goes through a Clock, so unit tests can
 * drive a ManualClock instead of sleeping.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
}

/** Wall-clock time; timers are unref'ed so they never keep the process alive on their own. */
export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let seq = 0;
  return {
    now: () => Date.now(),
    setTimer(delayMs, callback) {
      const id = ++seq;
      const timer = setTimeout(() => {
        timers.delete(id);
        callback();
      }, Math.max(0, delayMs));
      timer.unref();
      timers.set(id, timer);
      return { id };
    },
    clearTimer(handle) {
      if (!handle) return;
      const timer = timers.get(handle.id);
      if (timer) clearTimeout(timer);
      timers.delete(handle.id);
    },
  };
}

interface PendingTimer {
  id: number;
  due: number;
  callback: () => void;
}

/** A clock that only moves when told to: `await clock.advance(ms)` runs every due timer in order. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: PendingTimer[] = [];

  constructor(start = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = { id: ++this.seq, due: this.current + Math.max(0, delayMs), callback };
    this.pending.push(timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.pending = this.pending.filter((timer) => timer.id !== handle.id);
  }

  /** Move time forward by `ms`, running timers (and the promise jobs they start) as they fall due. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushAsync();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.pending = this.pending.filter((timer) => timer !== next);
      this.current = Math.max(this.current, next.due);
      next.callback();
      await flushAsync();
    }
    this.current = target;
    await flushAsync();
  }

  /** Advance in steps until `predicate()` holds or `maxMs` elapsed; returns whether it held. */
  async advanceUntil(predicate: () => boolean, maxMs: number, stepMs = 50): Promise<boolean> {
    for (let elapsed = 0; elapsed <= maxMs; elapsed += stepMs) {
      if (predicate()) return true;
      await this.advance(stepMs);
    }
    return predicate();
  }

  private nextDue(target: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (timer.due > target) continue;
      if (!best || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer;
    }
    return best;
  }
}

async function flushAsync(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
