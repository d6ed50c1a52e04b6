/**
 * Idle sleep (scheduled: EventBridge Scheduler on AWS, a timer in local mode): environments
 * that answered no request for FLEDGE_IDLE_SLEEP_AFTER (operator setting, e.g. `2h`; off when
 * unset or `off`) are put to sleep (functions/commands/idle-sleep.ts). A request to a sleeping
 * environment's URL wakes it again (functions/events/waker.ts).
 */
import { logger } from '#runtime/powertools.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import { sleepIdleEnvironments, type IdleSleepReport } from '#commands/idle-sleep.ts';
import { idleSleepAfterMs } from '#runtime/config.ts';
import { eventHandler } from '#lambda/event-handler.ts';

async function handle(_event?: unknown): Promise<IdleSleepReport> {
  const idleMs = idleSleepAfterMs();
  if (idleMs === undefined) return { off: true, running: 0, candidates: 0, slept: [], skipped: [] };
  const report = await sleepIdleEnvironments(idleMs);
  if (report.candidates === 0) return report;
  if (report.slept.length > 0) {
    emitMetric('IdleSlept', report.slept.length);
  }
  logger.info('idle sleep ran', { ...report });
  return report;
}

export const handler = eventHandler(handle);
