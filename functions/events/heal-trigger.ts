/**
 * Alarm and ECS events (EventBridge) -> a heal (README "Self-healing": "triggered by alarms, ECS
 * events"). Rules (infra/aws/healing.ts; locally infra/local/main.ts) deliver:
 *  - "CloudWatch Alarm State Change" of this installation's alarms (`fledge-<installation>-*`);
 *  - ECS SERVICE_TASK_START_IMPAIRED, SERVICE_DEPLOYMENT_FAILED and tasks that stopped
 *    with an error, in the Fledge cluster.
 * Each event is parsed (functions/domain/heal-signals.ts), deduplicated (EventBridge delivers
 * at least once; ECS repeats itself) and, if the environment may be healed now
 * (functions/domain/healing.ts: RUNNING, not within the backoff after its last heal), starts
 * the heal workflow with a conditional write, so concurrent signals start at most one heal.
 */
import { clusterArnIfSet, healPolicy, installationId } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { startTriggeredHeal } from '#commands/heal-commands.ts';
import { parseHealSignal, RecentEvents, type BusEvent } from '#domain/heal-signals.ts';
import { eventHandler } from '#lambda/event-handler.ts';

export type TriggerOutcome = 'ignored' | 'duplicate' | 'started' | 'skipped';

const recentEvents = new RecentEvents(10 * 60_000);
/** the same signal for the same environment within a few seconds (three tasks crashing at once) */
const recentSignals = new RecentEvents(5_000);

async function handle(event: BusEvent): Promise<{ outcome: TriggerOutcome; environment?: string; reason?: string }> {
  const parsed = parseHealSignal(event, clusterArnIfSet(), installationId());
  if ('ignored' in parsed) {
    logger.debug('not a heal signal', { reason: parsed.ignored, detailType: event['detail-type'] });
    return { outcome: 'ignored', reason: parsed.ignored };
  }
  const { signal } = parsed;
  const log = logger.createChild({ persistentKeys: { environment: signal.environment, signal: signal.signal, eventId: signal.eventId } });
  if ((signal.eventId && !recentEvents.firstTime(signal.eventId)) || !recentSignals.firstTime(`${signal.environment}#${signal.signal}`)) {
    log.debug('duplicate signal');
    return { outcome: 'duplicate', environment: signal.environment };
  }
  const result = await startTriggeredHeal(
    signal.environment,
    { source: signal.source, signal: signal.signal, reason: signal.reason, eventId: signal.eventId, ...(signal.at ? { at: signal.at } : {}) },
    healPolicy(),
  );
  if (!result.started) {
    log.info('heal not started', { reason: result.reason });
    return { outcome: 'skipped', environment: signal.environment, reason: result.reason };
  }
  log.info('heal started', { operationId: result.record.operation?.id, reason: signal.reason });
  return { outcome: 'started', environment: signal.environment };
}

export const handler = eventHandler(handle);
