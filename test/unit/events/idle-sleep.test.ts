import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as rawHandler } from '../../../functions/events/idle-sleep.ts';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import type { EnvironmentRecord } from '../../../functions/domain/environment.ts';
import { targetGroupName } from '../../../functions/domain/resource-names.ts';
import { item, record, spec } from '../../support/records.ts';
import { invoked } from '../../support/lambda-context.ts';
const handler = invoked(rawHandler);

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const cloudwatch = mockClient(CloudWatchClient);
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/fledge/abc/def';
const HOUR = 3_600_000;
const tg = (name: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/00${name.length}`;
/** this installation's target group name; environments named `legacy-*` have one named after them (earlier versions) */
const tgName = (name: string) => (name.startsWith('legacy-') ? name : targetGroupName('test', name));
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function env(name: string, overrides: Partial<EnvironmentRecord> = {}): EnvironmentRecord {
  return record({ name, updatedAt: ago(3 * HOUR), ...overrides });
}

function world(envs: EnvironmentRecord[], requests: Record<string, number[]>) {
  dynamodb.on(QueryCommand).resolves({ Items: envs.map(item) });
  for (const e of envs) dynamodb.on(GetCommand, { Key: { pk: `ENV#${e.name}`, sk: 'ENV' } }).resolves({ Item: item(e) });
  elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: envs.map((e) => ({ TargetGroupName: tgName(e.name), TargetGroupArn: tg(tgName(e.name)) })) });
  cloudwatch.on(GetMetricDataCommand).callsFake((input) => ({
    MetricDataResults: input.MetricDataQueries.map((q: { Id: string; MetricStat: { Metric: { Dimensions: { Name: string; Value: string }[] } } }) => {
      const value = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'TargetGroup')!.Value;
      const name = envs.find((e) => tgName(e.name) === value.split('/')[1])?.name ?? value.split('/')[1]!;
      return { Id: q.Id, StatusCode: 'Complete', Values: requests[name] ?? [], Timestamps: (requests[name] ?? []).map(() => new Date()) };
    }),
  }));
}

const slept = () => sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!) as { name: string; actor: string; spec: { desiredCount: number } });

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
  elbv2.reset();
  cloudwatch.reset();
  resetClients();
  Object.assign(process.env, {
    TABLE_NAME: 'fledge',
    FLEDGE_INSTALLATION_ID: 'test',
    FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:123456789012:cluster/fledge',
    FLEDGE_LISTENER_ARN: LISTENER,
    FLEDGE_SUBNET_IDS: 'subnet-a',
    FLEDGE_SECURITY_GROUP_IDS: 'sg-1',
    FLEDGE_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/x',
    FLEDGE_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/y',
    FLEDGE_LOG_GROUP: '/fledge',
    FLEDGE_BASE_DOMAIN: 'preview.example.com',
    FLEDGE_SCALE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Fledge-scale',
    FLEDGE_IDLE_SLEEP_AFTER: '2h',
  });
  resetConfig();
  dynamodb.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
});

describe('idle sleep (scheduled)', () => {
  it('puts RUNNING environments without requests for the idle period to sleep, actor "schedule"; busy ones stay', async () => {
    world([env('idle'), env('busy')], { busy: [3, 2] });
    const report = await handler();

    expect(report).toMatchObject({ idleAfterMs: 2 * HOUR, running: 2, candidates: 2, slept: ['idle'], skipped: [] });
    expect(slept()).toEqual([expect.objectContaining({ name: 'idle', actor: 'schedule', spec: expect.objectContaining({ desiredCount: 0 }) })]);
    const [envPut, event] = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(envPut!.Put!.Item).toMatchObject({ name: 'idle', status: 'SCALING', sleptFromCount: 1 });
    expect(event!.Put!.Item).toMatchObject({ type: 'sleep-requested', actor: 'schedule', message: 'sleep requested: 1 -> 0 tasks (no requests for 2h)' });
  });

  it('finds the target group by this installation\'s name, or by the environment\'s own name (made by an earlier version)', async () => {
    world([env('idle'), env('legacy-idle'), env('legacy-busy')], { 'legacy-busy': [4] });
    const report = await handler();
    expect(report).toMatchObject({ candidates: 3, slept: ['idle', 'legacy-idle'] });
  });

  it('reads only RUNNING environments (the status index) and asks CloudWatch once for all of them, over the idle period', async () => {
    world([env('idle'), env('busy')], { busy: [1] });
    await handler();
    const query = dynamodb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query).toMatchObject({ IndexName: 'byStatus', ExpressionAttributeValues: expect.objectContaining({ ':pk': 'STATUS#RUNNING' }) });
    expect(elbv2.commandCalls(DescribeTargetGroupsCommand)[0]!.args[0].input.LoadBalancerArn).toBe(LISTENER.replace(/:listener\/(app\/[^/]+\/[^/]+)\/[^/]+$/, ':loadbalancer/$1'));
    const metrics = cloudwatch.commandCalls(GetMetricDataCommand);
    expect(metrics).toHaveLength(1);
    const input = metrics[0]!.args[0].input;
    expect(input.EndTime!.getTime() - input.StartTime!.getTime()).toBe(2 * HOUR);
    expect(input.MetricDataQueries![0]!.MetricStat).toMatchObject({
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'RequestCount',
        Dimensions: [{ Name: 'TargetGroup', Value: `targetgroup/${tgName('idle')}/00${tgName('idle').length}` }, { Name: 'LoadBalancer', Value: 'app/fledge/abc' }],
      },
      Stat: 'Sum',
      Period: 7200,
    });
  });

  it('leaves alone environments labelled fledge.dev/no-sleep, and those up for less than the idle period (just created or woken)', async () => {
    world([
      env('opted-out', { spec: spec({ labels: { repository: 'acme/web', 'fledge.dev/no-sleep': 'true' } }) }),
      env('just-woken', { updatedAt: ago(10 * 60_000) }),
    ], {});
    const report = await handler();
    expect(report).toMatchObject({ running: 2, candidates: 0, slept: [] });
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('skips an environment that changed since it was listed (a deploy or a request wins over the schedule)', async () => {
    world([env('changed')], {});
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#changed', sk: 'ENV' } }).resolves({ Item: item(env('changed', { version: 9, status: 'UPDATING' })) });
    const report = await handler();
    expect(report).toMatchObject({ slept: [], skipped: ['changed'] });
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('does nothing when FLEDGE_IDLE_SLEEP_AFTER is off', async () => {
    process.env.FLEDGE_IDLE_SLEEP_AFTER = 'off';
    world([env('idle')], {});
    expect(await handler()).toMatchObject({ off: true, slept: [] });
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
