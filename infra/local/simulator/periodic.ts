/** A job the simulator runs on its clock at a fixed interval (alarm evaluation, health checks). */
import type { TimerHandle } from './clock.ts';
import type { SimContext } from './context.ts';

export interface Periodic {
  /** no further runs */
  stop(): void;
}

/**
 * Runs `job` every `intervalMs` until the simulator stops. A run that throws is logged as
 * `simulator: <what> failed` and the next run still comes: one bad record must not stop the job.
 */
export function runEvery(ctx: SimContext, intervalMs: number, what: string, job: () => void): Periodic {
  let timer: TimerHandle | undefined;
  const schedule = (): void => {
    timer = ctx.clock.setTimer(intervalMs, () => {
      if (ctx.stopped) return;
      try {
        job();
      } catch (error) {
        ctx.log.error(`simulator: ${what} failed`, { error: String(error) });
      }
      schedule();
    });
  };
  schedule();
  return { stop: () => ctx.clock.clearTimer(timer) };
}
