import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import type { ALBEvent, ALBResult } from 'aws-lambda';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DescribeRulesCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { environmentNameFromHost, handler as rawHandler } from '../../../functions/events/waker.ts';
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
const SCALE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Fledge-scale';
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/fledge/abc/def';
const WAKER_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/Fledge-Waker/0123';
const OWN_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pr-1/4567';

function albEvent(host: string, path = '/'): ALBEvent {
  return {
    requestContext: { elb: { targetGroupArn: WAKER_TG } },
    httpMethod: 'GET',
    path,
    queryStringParameters: {},
    headers: { host, 'user-agent': 'test', 'x-amzn-trace-id': 'Root=1-abc' },
    body: '',
    isBase64Encoded: false,
  };
}

function stored(...versions: (EnvironmentRecord | undefined)[]) {
  let call = 0;
  dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).callsFake(() => {
    const r = versions[Math.min(call++, versions.length - 1)];
    return { Item: r && item(r) };
  });
}

const sleeping = (overrides: Partial<EnvironmentRecord> = {}) =>
  record({ status: 'SLEEPING', runningCount: 0, spec: spec({ desiredCount: 0 }), sleptFromCount: 3, ...overrides });
const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
const wake = (host = 'pr-1.preview.example.com') => handler(albEvent(host)) as Promise<ALBResult>;

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
  elbv2.reset();
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
    FLEDGE_SCALE_STATE_MACHINE_ARN: SCALE_ARN,
  });
  resetConfig();
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
});

describe('the waker (ALB Lambda target of sleeping environments)', () => {
  it('wakes a sleeping environment back to the count it slept from, and answers a page that refreshes itself', async () => {
    stored(sleeping());
    const result = await wake();

    expect(result.statusCode).toBe(503);
    expect(result.statusDescription).toBe('503 Service Unavailable');
    expect(result.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' });
    expect(result.body).toContain('<meta http-equiv="refresh" content="5">');
    expect(result.body).toContain('Waking up pr-1');
    expect(result.body).toContain('3 tasks');
    const [envPut, event] = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(envPut!.Put!.Item).toMatchObject({ status: 'SCALING', spec: { desiredCount: 3 }, operation: { type: 'scale' } });
    expect(envPut!.Put!.Item!.sleptFromCount).toBeUndefined();
    expect(event!.Put!.Item).toMatchObject({ type: 'wake-requested', actor: 'request' });
    expect(started()).toHaveLength(1);
    expect(started()[0]!.stateMachineArn).toBe(SCALE_ARN);
    expect(JSON.parse(started()[0]!.input!)).toMatchObject({ actor: 'request', spec: { desiredCount: 3 } });
  });

  it('wakes into the autoscaling range, and to 1 when it never ran', async () => {
    stored(sleeping({ sleptFromCount: undefined, spec: spec({ desiredCount: 0, autoscaling: { minCount: 2, maxCount: 4, targetCpuPercent: 50 } }) }));
    await wake();
    expect(JSON.parse(started()[0]!.input!).spec.desiredCount).toBe(2);
  });

  it('starts one wake for requests that arrive together: the one that loses the race reads again and waits with the others', async () => {
    // the table: SLEEPING until the first conditional write wins, SCALING after it
    let current = sleeping();
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).callsFake(() => ({ Item: item(current) }));
    dynamodb.on(TransactWriteCommand).callsFake((input) => {
      const put = input.TransactItems[0].Put;
      if (put.ExpressionAttributeValues[':expected'] !== current.version) {
        throw new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] });
      }
      current = { ...current, ...put.Item };
      return {};
    });
    const [first, second] = await Promise.all([wake(), wake()]);
    expect(first.statusCode).toBe(503);
    expect(second.statusCode).toBe(503);
    expect(second.body).toContain('Waking up pr-1');
    expect(started()).toHaveLength(1);
  });

  it('answers "starting" while a wake (or any operation) runs, without touching anything', async () => {
    stored(record({ status: 'SCALING' }));
    const result = await wake();
    expect(result.statusCode).toBe(503);
    expect(result.body).toContain('pr-1 is starting');
    expect(result.body).toContain('refresh');
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(started()).toHaveLength(0);
  });

  it('moves the rule back when a RUNNING environment still routes to the waker (a failed swap), with a scale to the count it has', async () => {
    stored(record({ spec: spec({ desiredCount: 2 }) }));
    elbv2.on(DescribeRulesCommand).resolves({
      Rules: [{
        RuleArn: `${LISTENER}/rule-1`, IsDefault: false,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-1.preview.example.com'] } }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: WAKER_TG, Weight: 1 }, { TargetGroupArn: OWN_TG, Weight: 0 }] } }],
      }],
    });
    const result = await wake();
    expect(result.body).toContain('pr-1 is back');
    expect(result.body).toContain('content="1"');
    expect(started()).toHaveLength(1);
    expect(JSON.parse(started()[0]!.input!)).toMatchObject({ actor: 'request', spec: { desiredCount: 2 } });
  });

  it('leaves a RUNNING environment alone when its rule already serves its own target group (a request that raced the swap)', async () => {
    stored(record());
    elbv2.on(DescribeRulesCommand).resolves({
      Rules: [{
        RuleArn: `${LISTENER}/rule-1`, IsDefault: false,
        Conditions: [{ Field: 'host-header', Values: ['pr-1.preview.example.com'] }],
        Actions: [{ Type: 'forward', TargetGroupArn: OWN_TG }],
      }],
    });
    const result = await wake();
    expect(result.body).toContain('pr-1 is back');
    expect(started()).toHaveLength(0);
  });

  it('leaves a RUNNING environment alone when its rule serves the target group named for this installation (resource-names.ts targetGroupName)', async () => {
    stored(record());
    const scopedTg = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${targetGroupName('test', 'pr-1')}/89ab`;
    elbv2.on(DescribeRulesCommand).resolves({
      Rules: [{
        RuleArn: `${LISTENER}/rule-1`, IsDefault: false,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-1.preview.example.com'] } }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: scopedTg, Weight: 1 }, { TargetGroupArn: WAKER_TG, Weight: 0 }] } }],
      }],
    });
    const result = await wake();
    expect(result.body).toContain('pr-1 is back');
    expect(started()).toHaveLength(0);
  });

  it.each([
    ['an unknown environment', 'nobody.preview.example.com', 404, 'No environment named nobody'],
    ['a host outside the base domain', 'pr-1.elsewhere.example.org', 404, 'No preview environment here'],
  ])('answers 404 for %s', async (_, host, status, text) => {
    const result = await wake(host);
    expect(result.statusCode).toBe(status);
    expect(result.body).toContain(text);
    expect(started()).toHaveLength(0);
  });

  it('does not wake an environment that is DEGRADED or FAILED; it says why', async () => {
    stored(record({ status: 'DEGRADED', operation: { id: 'op-3', type: 'heal', status: 'FAILED', startedAt: 'x', error: { code: 'TASK_EXITED', message: 'exit code 1' } } }));
    const result = await wake();
    expect(result.statusCode).toBe(503);
    expect(result.body).toContain('DEGRADED: TASK_EXITED (its container stopped on its own)');
    expect(started()).toHaveLength(0);
  });

  it('shows a FAILED environment\'s error code and plain words, never the stored message (an ARN, an account id)', async () => {
    // what earlier versions stored from a failed StartExecution
    const raw = 'the workflow could not be started: User: arn:aws:sts::123456789012:assumed-role/Fledge-Api/x is not authorized to perform: states:StartExecution on resource: arn:aws:states:eu-west-1:123456789012:stateMachine:Fledge-create';
    stored(record({ status: 'FAILED', operation: { id: 'op-3', type: 'create', status: 'FAILED', startedAt: 'x', error: { code: 'INTERNAL', message: raw } } }));
    const result = await wake();
    expect(result.statusCode).toBe(503);
    expect(result.body).toContain('FAILED: INTERNAL (something went wrong while deploying it)');
    expect(result.body).not.toMatch(/arn:|\d{12}|assumed-role|not authorized/);
  });

  it('answers a page (never a raw error) when the table cannot be read', async () => {
    dynamodb.on(GetCommand).rejects(new Error('network down'));
    const result = await wake();
    expect(result.statusCode).toBe(503);
    expect(result.body).toContain('try again');
  });

  it('escapes what it echoes', async () => {
    const result = await wake('<script>.preview.example.com');
    expect(result.body).not.toContain('<script>');
  });
});

describe('environmentNameFromHost', () => {
  it.each([
    ['pr-42.preview.example.com', 'preview.example.com', 'pr-42'],
    ['PR-42.Preview.Example.com.', 'preview.example.com', 'pr-42'],
    ['pr-42.preview.example.com:443', 'preview.example.com', 'pr-42'],
    ['pr-42.localhost:4000', 'localhost:4000', 'pr-42'],
    ['pr-42.localhost', 'localhost:4000', 'pr-42'],
    ['a.b.preview.example.com', 'preview.example.com', undefined],
    ['preview.example.com', 'preview.example.com', undefined],
    ['-bad.preview.example.com', 'preview.example.com', undefined],
    [undefined, 'preview.example.com', undefined],
  ])('%s under %s -> %s', (host, domain, name) => {
    expect(environmentNameFromHost(host, domain)).toBe(name);
  });
});
