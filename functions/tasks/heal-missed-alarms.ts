/**
 * HealMissedAlarms (cleanup): an alarm fires once ("alarms invoke actions only when the alarm
 * changes state", Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms"; EventBridge
 * gets one "CloudWatch Alarm State Change" event per change). When its "Alarm State Change" event never
 * started a heal (lost on the way: EventBridge delivery or the trigger's retries ran out, or it
 * came while the environment was busy), the alarm stays in ALARM and nothing would ever heal
 * the environment. Each cleanup run lists this installation's alarms in ALARM and starts a heal
 * for each RUNNING environment whose alarm went off after its last operation ended (one that
 * ended later, e.g. a heal that found nothing to repair, already answered it). The heal's own
 * bound and backoff apply (functions/domain/healing.ts).
 */
import { logger } from '#runtime/powertools.ts';
import { healPolicy, installationId } from '#runtime/config.ts';
import { alarmNamePrefix, parseAlarmName } from '#domain/alarms.ts';
import { startTriggeredHeal } from '#commands/heal-commands.ts';
import { alarmsInAlarm } from '#adapters/alarm-states.ts';
import { getEnvironment } from '#adapters/environment-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

export interface MissedAlarmsReport {
  inAlarm: number;
  healsStarted: string[];
  skipped: { environment: string; reason: string }[];
}

async function handle(_payload: { executionName?: string } = {}): Promise<MissedAlarmsReport> {
  const id = installationId();
  const alarms = await alarmsInAlarm(alarmNamePrefix(id));
  const report: MissedAlarmsReport = { inAlarm: alarms.length, healsStarted: [], skipped: [] };
  const seen = new Set<string>();
  for (const alarm of alarms) {
    const parsed = parseAlarmName(alarm.name, id);
    if (!parsed || seen.has(parsed.environment)) continue;
    const current = await getEnvironment(parsed.environment);
    if (current?.status !== 'RUNNING') continue;
    const finished = current.operation?.finishedAt ? Date.parse(current.operation.finishedAt) : 0;
    if (finished >= Date.parse(alarm.since)) continue;
    seen.add(parsed.environment);
    const result = await startTriggeredHeal(
      parsed.environment,
      { source: 'alarm', signal: alarm.name, reason: `in ALARM since ${alarm.since} and no heal followed (found by the cleanup)` },
      healPolicy(),
    );
    if (result.started) report.healsStarted.push(parsed.environment);
    else report.skipped.push({ environment: parsed.environment, reason: result.reason });
  }
  logger.info('missed alarms', { ...report });
  return report;
}

export const handler = taskHandler(handle);
