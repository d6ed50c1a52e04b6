/**
 * Sleep, wake and autoscaling on AWS: the waker Lambda behind its Lambda target group (and
 * who may invoke it), the scale state machine and what its role may do, the scaling steps of
 * create and teardown, and the idle-sleep schedule.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/aws/lambda-function.ts';
import { aslCalls } from '../../infra/aws/workflows.ts';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties are untyped JSON
type Json = any;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json>; DependsOn?: string[] | string }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const asArray = <T,>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function roleStatements(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties?.Roles).some((ref: Json) => ref?.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement as Statement[]);
}

const idOf = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(construct.node.defaultChild as never);

let dev: Synthesized;
let noIdle: Synthesized;
let resources: Resources;

beforeAll(() => {
  dev = synthFledge();
  noIdle = synthFledge({ idleSleepAfter: 'off' });
  resources = dev.template.toJSON().Resources as Resources;
});

afterAll(() => {
  dev?.dispose();
  noIdle?.dispose();
});

describe('the waker', () => {
  it('is a Lambda behind a Lambda target group, which load balancers of this account only may invoke', () => {
    const fnId = idOf(dev, dev.stack.scaling.waker.function);
    const tgId = idOf(dev, dev.stack.scaling.wakerTargetGroup);
    const tg = resources[tgId]!;
    expect(tg.Type).toBe('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(tg.Properties).toMatchObject({ TargetType: 'lambda', Targets: [{ Id: { 'Fn::GetAtt': [fnId, 'Arn'] } }] });

    const permissions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.FunctionName?.['Fn::GetAtt']?.[0] === fnId);
    expect(permissions).toHaveLength(1);
    const [permissionId, permission] = permissions[0]!;
    expect(permission.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'elasticloadbalancing.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    // registering the target needs the permission first
    expect(asArray(tg.DependsOn)).toContain(permissionId);
    expect(resources[fnId]!.Properties!.Handler).toBe('index.handler');
    expect(resources[fnId]!.Properties!.Runtime).toBe('nodejs22.x');
  });

  it('may start the scale workflow (reached by its fixed name: no dependency cycle) and nothing else in Step Functions', () => {
    const machine = dev.stack.workflows.stateMachines.scale;
    const machineResource = resources[idOf(dev, machine)]!;
    expect(machineResource.Properties!.StateMachineName).toBe('Fledge-scale');
    const fn = resources[idOf(dev, dev.stack.scaling.waker.function)]!;
    const arn = JSON.stringify(fn.Properties!.Environment.Variables.FLEDGE_SCALE_STATE_MACHINE_ARN);
    expect(arn).toContain(':stateMachine:Fledge-scale');
    expect(arn).not.toContain('"Ref":"Workflows');

    const statements = roleStatements(resources, idOf(dev, dev.stack.scaling.waker.role));
    const states = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('states:')));
    expect(states).toHaveLength(1);
    expect(states[0]!.Action).toBe('states:StartExecution');
    expect(JSON.stringify(states[0]!.Resource)).toContain(':stateMachine:Fledge-scale');
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'elasticloadbalancing:DescribeRules']));
    expect(actions).not.toContain('elasticloadbalancing:ModifyRule');
  });
});

describe('the scale workflow', () => {
  it('runs statemachines/scale.asl.json with the waker target group substituted, as a Standard machine', () => {
    const machine = resources[idOf(dev, dev.stack.workflows.stateMachines.scale)]!;
    expect(machine.Properties!.StateMachineType).toBe('STANDARD');
    expect(machine.Properties!.DefinitionSubstitutions.WakerTargetGroupArn).toEqual({ Ref: idOf(dev, dev.stack.scaling.wakerTargetGroup) });
    expect(Object.keys(machine.Properties!.DefinitionSubstitutions)).toEqual(expect.arrayContaining(['PlanScaleFunctionArn', 'CompleteScaleFunctionArn', 'AwaitSteadyStateFunctionArn']));
  });

  it('may scale the service, swap its listener rule and manage its Application Auto Scaling target, scoped where AWS allows', () => {
    const statements = roleStatements(resources, idOf(dev, dev.stack.workflows.stateMachines.scale.role as never));
    const on = (action: string) => statements.filter((s) => asArray(s.Action).includes(action)).flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)));
    const calls = aslCalls(JSON.parse(readFileSync(`${REPO_ROOT}statemachines/scale.asl.json`, 'utf8')));
    expect(calls.actions).toEqual(expect.arrayContaining([
      'application-autoscaling:DeregisterScalableTarget', 'application-autoscaling:PutScalingPolicy', 'application-autoscaling:RegisterScalableTarget',
      'ecs:RegisterTaskDefinition', 'ecs:UpdateService', 'elasticloadbalancing:ModifyRule',
    ]));
    for (const action of calls.actions) expect(on(action).length, action).toBeGreaterThan(0);
    for (const r of on('ecs:UpdateService')) expect(r).toMatch(/:service\/".*NetworkCluster.*"\/\*"/);
    for (const r of on('elasticloadbalancing:ModifyRule')) expect(r).toContain(':listener-rule/');
    expect(on('application-autoscaling:RegisterScalableTarget')).toEqual(['"*"']);
    expect(on('application-autoscaling:TagResource').join()).toContain(':scalable-target/*');
    const slr = statements.find((s) => asArray(s.Action).includes('iam:CreateServiceLinkedRole'))!;
    expect(JSON.stringify(slr.Resource)).toContain('AWSServiceRoleForApplicationAutoScaling_ECSService');
    expect(slr.Condition).toEqual({ StringLike: { 'iam:AWSServiceName': 'ecs.application-autoscaling.amazonaws.com' } });
    expect(on('cloudwatch:PutMetricAlarm').join()).toContain('alarm:TargetTracking-service/*');
  });

  it('create registers autoscaling and teardown removes it: their roles may', () => {
    for (const workflow of ['create', 'teardown'] as const) {
      const statements = roleStatements(resources, idOf(dev, dev.stack.workflows.stateMachines[workflow].role as never));
      const actions = statements.flatMap((s) => asArray(s.Action));
      expect(actions, workflow).toContain('application-autoscaling:DeregisterScalableTarget');
    }
    const create = roleStatements(resources, idOf(dev, dev.stack.workflows.stateMachines.create.role as never)).flatMap((s) => asArray(s.Action));
    expect(create).toEqual(expect.arrayContaining(['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:PutScalingPolicy', 'elasticloadbalancing:ModifyRule']));
  });

  it('API Lambdas and the ECS event handler know the scale machine; the POST /scale route may start it', () => {
    const route = dev.stack.httpApi.functions.find(({ route: r }) => r.handler === 'scale-environment')!;
    const fn = resources[idOf(dev, route.fn.function)]!;
    expect(fn.Properties!.Environment.Variables.FLEDGE_SCALE_STATE_MACHINE_ARN).toEqual({ Ref: idOf(dev, dev.stack.workflows.stateMachines.scale) });
    const starts = roleStatements(resources, idOf(dev, route.fn.role)).filter((s) => asArray(s.Action).includes('states:StartExecution'));
    expect(starts.flatMap((s) => asArray(s.Resource))).toContainEqual({ Ref: idOf(dev, dev.stack.workflows.stateMachines.scale) });
  });
});

describe('idle sleep', () => {
  it('runs on an EventBridge Scheduler schedule (every 30 minutes for the default 2h) with the operator setting', () => {
    const idle = dev.stack.scaling.idleSleep!;
    const fnId = idOf(dev, idle.function);
    expect(resources[fnId]!.Properties!.Environment.Variables).toMatchObject({ FLEDGE_IDLE_SLEEP_AFTER: '2h' });
    dev.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) }),
    });
    const schedule = Object.values(dev.template.findResources('AWS::Scheduler::Schedule'))[0]!;
    const schedulerRoleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    const invoke = roleStatements(resources, schedulerRoleId).filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.map((s) => s.Resource))).toContain(fnId);
  });

  it('may read request counts and start the scale workflow, nothing more', () => {
    const statements = roleStatements(resources, idOf(dev, dev.stack.scaling.idleSleep!.role));
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetGroups', 'states:StartExecution', 'dynamodb:Query']));
    expect(actions.filter((a) => /^(ecs|elasticloadbalancing):(Update|Modify|Delete|Create)/.test(a))).toEqual([]);
  });

  it('is not deployed when idleSleepAfter is off; the waker still is', () => {
    expect(noIdle.stack.scaling.idleSleep).toBeUndefined();
    noIdle.template.resourceCountIs('AWS::Scheduler::Schedule', Object.keys(dev.template.findResources('AWS::Scheduler::Schedule')).length - 1);
    noIdle.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'lambda' });
  });

  it('refuses an idle period shorter than 15 minutes (ALB metrics come by the minute)', () => {
    expect(() => synthFledge({ idleSleepAfter: '5m' })).toThrow(/idleSleepAfter/);
  });
});
