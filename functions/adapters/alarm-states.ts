/**
 * Which of an installation's alarms are in ALARM now, and since when (CloudWatch
 * DescribeAlarms, StateValue ALARM, by name prefix, paginated).
 */
import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { cloudwatchClient } from './clients/cloudwatch.ts';

export interface AlarmInAlarm {
  name: string;
  /** when the alarm last changed state (to ALARM) */
  since: string;
}

export async function alarmsInAlarm(prefix: string, maxPages = 10): Promise<AlarmInAlarm[]> {
  const found: AlarmInAlarm[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await cloudwatchClient().send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM', AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: nextToken }),
    );
    for (const alarm of (result.MetricAlarms ?? []) as MetricAlarm[]) {
      if (alarm.AlarmName && alarm.StateUpdatedTimestamp) found.push({ name: alarm.AlarmName, since: new Date(alarm.StateUpdatedTimestamp).toISOString() });
    }
    nextToken = result.NextToken;
    if (!nextToken) break;
  }
  return found;
}
