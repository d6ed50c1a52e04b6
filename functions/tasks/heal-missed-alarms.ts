/** HealMissedAlarms (cleanup): heals the alarms no heal followed; functions/commands/heal-steps.ts `healMissedAlarms`. */
import { healMissedAlarms, type MissedAlarmsReport } from '#commands/heal-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(_payload: { executionName?: string } = {}): Promise<MissedAlarmsReport> {
  return healMissedAlarms();
}

export const handler = taskHandler(handle);
