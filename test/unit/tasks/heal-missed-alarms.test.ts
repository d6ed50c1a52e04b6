import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as rawHandler } from '../../../functions/tasks/heal-missed-alarms.ts';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import type { EnvironmentRecord } from '../../../functions/domain/environment.ts';
import { item, record } from '../../support/records.ts';
import { invoked } from '../../support/lambda-context.ts';
const handler = invoked(rawHandler);

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const cloudwatch = mockClient(CloudWatchClient);
const HEAL_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fledge-heal';
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

function stored(r: EnvironmentRecord) {
  dynamodb.on(GetCommand, { Key: { pk: `ENV#${r.name}`, sk: 'ENV' } }).resolves({ Item: item(r) });
}

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
  cloudwatch.reset();
  resetClients();
  resetConfig();
  Object.assign(process.env, { TABLE_NAME: 'fledge', FLEDGE_INSTALLATION_ID: 'test', FLEDGE_HEAL_STATE_MACHINE_ARN: HEAL_ARN, FLEDGE_HEAL_MAX_PER_HOUR: '3', FLEDGE_HEAL_BACKOFF: '30s' });
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
});

describe('the cleanup heals what an alarm event did not', () => {
  it('starts a heal for a RUNNING environment whose alarm went off after its last operation, and for nothing else', async () => {
    const finished = { id: 'op-2-aaaa', type: 'heal' as const, status: 'SUCCEEDED' as const, startedAt: ago(300).toISOString(), finishedAt: ago(200).toISOString() };
    stored(record({ name: 'missed', status: 'RUNNING', operation: finished }));
    stored(record({ name: 'answered', status: 'RUNNING', operation: finished }));
    stored(record({ name: 'degraded', status: 'DEGRADED', operation: finished }));
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'fledge-test-missed-tasks', StateValue: 'ALARM', StateUpdatedTimestamp: ago(100) },
        { AlarmName: 'fledge-test-missed-unhealthy', StateValue: 'ALARM', StateUpdatedTimestamp: ago(90) },
        // in ALARM since before the heal that answered it (a heal that found nothing to repair)
        { AlarmName: 'fledge-test-answered-5xx', StateValue: 'ALARM', StateUpdatedTimestamp: ago(250) },
        { AlarmName: 'fledge-test-degraded-tasks', StateValue: 'ALARM', StateUpdatedTimestamp: ago(100) },
        { AlarmName: 'fledge-other-x-tasks', StateValue: 'ALARM', StateUpdatedTimestamp: ago(100) },
      ],
    });
    const report = await handler({ executionName: 'cleanup-1' });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toMatchObject({ AlarmNamePrefix: 'fledge-test-', StateValue: 'ALARM' });
    expect(report).toEqual({ inAlarm: 5, healsStarted: ['missed'], skipped: [] });
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ name: 'missed', trigger: { source: 'alarm', signal: 'fledge-test-missed-tasks', reason: expect.stringMatching(/found by the cleanup/) } });
  });
});
