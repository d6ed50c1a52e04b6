/**
 * Self-healing on AWS (infra/aws/healing.ts, workflows.ts): the heal state machine and what
 * its role may do, the per-environment alarms' permissions of create and teardown, the
 * notification topic, the EventBridge rules that start heals and the trigger Lambda's reach.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/aws/config.ts';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { aslCalls } from '../../infra/aws/workflows.ts';
import { HEAL_EVENT_RULES, matchesPattern } from '../../functions/contract/heal-events.ts';
import { alarmName, parseAlarmName } from '../../functions/domain/alarms.ts';
import { installationIdFor } from '../../functions/domain/resource-names.ts';
import { routes } from '../../functions/contract/routes.ts';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
type Json = any;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;
interface Statement {
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
}
const asArray = <T,>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

let synth: Synthesized;
let resources: Resources;

beforeAll(() => {
  synth = synthFledge({ alarmEmail: 'ops@example.com', healMaxPerHour: 5, healBackoff: '45s' });
  resources = synth.template.toJSON().Resources as Resources;
});

afterAll(() => synth?.dispose());

const idOf = (construct: { node: { defaultChild?: unknown } }) => synth.stack.getLogicalId(construct.node.defaultChild as never);

function statementsOfRole(roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties?.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement as Statement[]);
}

const granted = (statements: Statement[], action: string) => statements.filter((s) => asArray(s.Action).includes(action));

describe('the heal state machine', () => {
  it('runs statemachines/heal.asl.json with the topic and the heal task Lambdas substituted', () => {
    const machine = resources[idOf(synth.stack.workflows.stateMachines.heal)]!;
    expect(machine.Properties!.StateMachineType).toBe('STANDARD');
    const subs = machine.Properties!.DefinitionSubstitutions;
    expect(subs.NotificationTopicArn).toEqual({ Ref: idOf(synth.stack.healNotifications.topic) });
    for (const key of ['InspectEnvironmentFunctionArn', 'RecheckDnsRecordFunctionArn', 'FinishHealFunctionArn', 'DegradeEnvironmentFunctionArn', 'AwaitSteadyStateFunctionArn', 'CompleteOperationFunctionArn']) {
      expect(subs[key], key).toBeDefined();
    }
  });

  it('may repair (create and update) but never delete, publish only to the notifications topic, and put only fledge-* alarms', () => {
    const calls = aslCalls(JSON.parse(readFileSync(`${REPO_ROOT}statemachines/heal.asl.json`, 'utf8')));
    expect(calls.actions).toEqual([
      'cloudwatch:PutMetricAlarm', 'cloudwatch:SetAlarmState', 'ecs:CreateService', 'ecs:RegisterTaskDefinition', 'ecs:UpdateService',
      'elasticloadbalancing:CreateRule', 'elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:ModifyTargetGroup',
      'elasticloadbalancing:ModifyTargetGroupAttributes', 'route53:ChangeResourceRecordSets', 'sns:Publish',
    ]);
    // its one Route 53 change puts the alias record back: the action InspectEnvironment chose (CREATE, or UPSERT over Fledge's own), never a DELETE
    const heal = JSON.parse(readFileSync(`${REPO_ROOT}statemachines/heal.asl.json`, 'utf8')) as { States: Record<string, { Resource?: string; Parameters?: Record<string, unknown> }> };
    const dnsChanges = Object.values(heal.States).filter((state) => state.Resource?.endsWith('route53:changeResourceRecordSets'));
    expect(dnsChanges.length).toBeGreaterThan(0);
    for (const state of dnsChanges) {
      expect(JSON.stringify(state.Parameters)).toMatch(/"Action\.\$":"\$\.todo\.dnsChange"/);
      expect(JSON.stringify(state.Parameters)).not.toMatch(/DELETE/);
    }
    const statements = statementsOfRole(idOf(synth.stack.workflows.stateMachines.heal.role as never));
    const actions = statements.flatMap((s) => asArray(s.Action));
    // (logs:DeleteLogDelivery is Step Functions' own log delivery, not an environment's resource)
    expect(actions.filter((a) => /^(ecs|elasticloadbalancing|cloudwatch|application-autoscaling):(Delete|Deregister|Stop)/.test(a))).toEqual([]);
    expect(granted(statements, 'sns:Publish').flatMap((s) => asArray(s.Resource))).toEqual([{ Ref: idOf(synth.stack.healNotifications.topic) }]);
    for (const s of granted(statements, 'cloudwatch:PutMetricAlarm')) expect(JSON.stringify(s.Resource)).toMatch(/:alarm:fledge-\*"/);
    expect(granted(statements, 'cloudwatch:TagResource')).not.toEqual([]);
    // the alarms it sets back to OK at its end are the environment's own
    expect(granted(statements, 'cloudwatch:SetAlarmState')).not.toEqual([]);
    for (const s of granted(statements, 'cloudwatch:SetAlarmState')) expect(JSON.stringify(s.Resource)).toMatch(/:alarm:fledge-\*"/);
  });

  it('lets create put and remove the alarms, update put them, teardown remove them', () => {
    const of = (workflow: 'create' | 'update' | 'teardown') => statementsOfRole(idOf(synth.stack.workflows.stateMachines[workflow].role as never));
    expect(granted(of('create'), 'cloudwatch:PutMetricAlarm')).not.toEqual([]);
    expect(granted(of('create'), 'cloudwatch:DeleteAlarms')).not.toEqual([]);
    expect(granted(of('update'), 'cloudwatch:PutMetricAlarm')).not.toEqual([]);
    expect(granted(of('teardown'), 'cloudwatch:DeleteAlarms')).not.toEqual([]);
    for (const workflow of ['create', 'update', 'teardown'] as const) {
      for (const s of [...granted(of(workflow), 'cloudwatch:PutMetricAlarm'), ...granted(of(workflow), 'cloudwatch:DeleteAlarms')]) {
        expect(JSON.stringify(s.Resource), workflow).toMatch(/:alarm:fledge-\*"/);
      }
    }
  });

  it('gets the operator\'s bound in the heal task Lambdas\' environment', () => {
    const inspect = resources[idOf(synth.stack.workflows.taskFunctions['inspect-environment'].function as never)]!;
    expect(inspect.Properties!.Environment.Variables).toMatchObject({ FLEDGE_HEAL_MAX_PER_HOUR: '5', FLEDGE_HEAL_BACKOFF: '45s' });
  });
});

describe('the notifications topic', () => {
  it('is encrypted, refuses plain HTTP, and mails the alarm address', () => {
    const topic = resources[idOf(synth.stack.healNotifications.topic)]!;
    expect(JSON.stringify(topic.Properties!.KmsMasterKeyId)).toContain('alias/aws/sns');
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: idOf(synth.stack.healNotifications.topic) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: idOf(synth.stack.healNotifications.topic) }, Protocol: 'email', Endpoint: 'ops@example.com',
    });
  });
});

describe('two installations in one account', () => {
  const alarmRule = HEAL_EVENT_RULES.find((rule) => rule.id === 'AlarmStateChanges')!;
  const alarmEvent = (name: string) => ({
    source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: name, state: { value: 'ALARM' } },
  });

  it('have different installation ids, hence different alarm names, and each heal rule ignores the other\'s alarms', () => {
    const [a, b] = [installationIdFor('Fledge'), installationIdFor('FledgeStaging')];
    expect(a).not.toBe(b);
    const [ruleA, ruleB] = [alarmRule.pattern('arn:aws:ecs:eu-west-1:1:cluster/a', a), alarmRule.pattern('arn:aws:ecs:eu-west-1:1:cluster/b', b)];
    for (const kind of ['tasks', 'unhealthy', '5xx'] as const) {
      const [ofA, ofB] = [alarmName(a, 'pr-42', kind), alarmName(b, 'pr-42', kind)];
      expect(ofA).not.toBe(ofB);
      expect(matchesPattern(ruleA, alarmEvent(ofA))).toBe(true);
      expect(matchesPattern(ruleA, alarmEvent(ofB))).toBe(false);
      expect(matchesPattern(ruleB, alarmEvent(ofB))).toBe(true);
      expect(matchesPattern(ruleB, alarmEvent(ofA))).toBe(false);
      // and should one reach the other's trigger anyway, it parses to nothing there
      expect(parseAlarmName(ofB, a)).toBeUndefined();
      expect(parseAlarmName(ofA, a)).toEqual({ environment: 'pr-42', kind });
    }
    // the alarms of earlier versions (fledge-<name>-<kind>) start no heal any more
    expect(matchesPattern(ruleA, alarmEvent('fledge-pr-42-tasks'))).toBe(false);
  });
});

describe('the signals that start heals', () => {
  const triggerId = () => idOf(synth.stack.healTrigger.handler.function as never);

  it('are the three rules of functions/contract/heal-events.ts, each delivering to the heal trigger with retries and a dead-letter queue', () => {
    const rules = synth.stack.healTrigger.rules.map((rule) => resources[idOf(rule)]!);
    expect(rules).toHaveLength(HEAL_EVENT_RULES.length);
    for (const rule of rules) {
      expect(rule.Properties!.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [triggerId(), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(synth.stack.healTrigger.deadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 900 },
        }),
      ]);
    }
    const [alarms, services, tasks] = rules.map((r) => r.Properties!.EventPattern);
    expect(alarms).toEqual({
      source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [{ prefix: `fledge-${synth.stack.installationId}-` }], state: { value: ['ALARM'] } },
    });
    expect(synth.stack.installationId).toBe(installationIdFor('Fledge'));
    const cluster = { 'Fn::GetAtt': [Match.stringLikeRegexp('NetworkCluster'), 'Arn'] };
    expect(services).toMatchObject({ source: ['aws.ecs'], 'detail-type': ['ECS Service Action', 'ECS Deployment State Change'], detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'SERVICE_DEPLOYMENT_FAILED'] } });
    expect(tasks).toMatchObject({ 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['STOPPED'], group: [{ prefix: 'service:' }] } });
    synth.template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: Match.objectLike({ clusterArn: [cluster] }) } });
  });

  it('reach a trigger that may start only the heal state machine, knows the bound, and is allowed to be invoked by EventBridge', () => {
    const fn = resources[triggerId()]!;
    expect(fn.Properties!.Environment.Variables).toMatchObject({
      FLEDGE_HEAL_STATE_MACHINE_ARN: { Ref: idOf(synth.stack.workflows.stateMachines.heal) }, FLEDGE_HEAL_MAX_PER_HOUR: '5', FLEDGE_HEAL_BACKOFF: '45s',
    });
    const statements = statementsOfRole(idOf(synth.stack.healTrigger.handler.role as never));
    const start = granted(statements, 'states:StartExecution');
    expect(start.flatMap((s) => asArray(s.Resource))).toEqual([{ Ref: idOf(synth.stack.workflows.stateMachines.heal) }]);
    expect(statements.flatMap((s) => asArray(s.Action)).filter((a) => /^(ecs|elasticloadbalancing|cloudwatch|sns):/.test(a))).toEqual([]);
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [triggerId(), 'Arn'] },
    });
  });

  it('lose nothing silently: the dead-letter queue is encrypted and alarmed', () => {
    const queue = resources[idOf(synth.stack.healTrigger.deadLetterQueue)]!;
    expect(queue.Properties!.SqsManagedSseEnabled).toBe(true);
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(synth.stack.healTrigger.deadLetterQueue), 'QueueName'] } }],
      AlarmActions: [{ Ref: idOf(synth.stack.observability.topic) }],
    });
  });

  it('include POST /heal, whose Lambda may start the heal state machine', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('POST /v1/environments/{name}/heal');
    const healRoute = synth.stack.httpApi.functions.find(({ route }) => route.handler === 'heal-environment')!;
    const statements = statementsOfRole(idOf(healRoute.fn.role as never));
    const start = granted(statements, 'states:StartExecution').flatMap((s) => asArray(s.Resource));
    expect(start).toContainEqual({ Ref: idOf(synth.stack.workflows.stateMachines.heal) });
  });
});

describe('heal settings', () => {
  const read = (context: Record<string, unknown>) => readConfig((key) => context[key]);

  it('default to 3 heals an hour and a 30 s backoff', () => {
    expect(read({})).toMatchObject({ healMaxPerHour: 3, healBackoff: '30s' });
    expect(read({ healMaxPerHour: '6', healBackoff: '2m' })).toMatchObject({ healMaxPerHour: 6, healBackoff: '2m' });
  });

  it.each([[{ healMaxPerHour: 0 }], [{ healMaxPerHour: 61 }], [{ healBackoff: '30' }], [{ healBackoff: '0s' }], [{ healBackoff: '61m' }]])('refuses %j', (context) => {
    expect(() => read(context)).toThrow(ConfigError);
  });
});
