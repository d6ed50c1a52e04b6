import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type AnyWorkflowKind, WORKFLOW_KINDS, WORKFLOWS } from '../../functions/contract/workflows.ts';
import { checkAgainstShape, inputShape, serviceModel } from '../support/service-models.ts';
import { modelledExceptions, sfnServicePrefix, withExceptionSuffix } from '../../infra/local/simulator/service-exceptions.ts';
import { throttlingErrors, type SimService } from '../../infra/local/simulator/errors.ts';

type AslValidator = (definition: unknown, options?: { checkArn?: boolean; checkPaths?: boolean }) => { isValid: boolean; errors: unknown[] };
const required = createRequire(import.meta.url)('asl-validator') as AslValidator | { default: AslValidator };
const aslValidator: AslValidator = typeof required === 'function' ? required : required.default;

const ROOT = join(import.meta.dirname, '..', '..');

type State = { Type: string; Resource?: string; Parameters?: Record<string, unknown>; ItemProcessor?: Definition; Iterator?: Definition };
type Definition = { States: Record<string, State> };

function definition(kind: AnyWorkflowKind): { text: string; json: Definition } {
  const text = readFileSync(join(ROOT, 'statemachines', WORKFLOWS[kind].asl), 'utf8');
  return { text, json: JSON.parse(text) as Definition };
}

function tasks(def: Definition): [string, State][] {
  return Object.entries(def.States).flatMap(([name, state]) => {
    const inner = state.ItemProcessor ?? state.Iterator;
    return [[name, state] as [string, State], ...(inner ? tasks(inner) : [])];
  });
}

const SUBSTITUTIONS = new Set([
  'TableName', 'ClusterArn', 'ListenerArn', 'VpcId', 'PlanResourcesFunctionArn', 'AwaitSteadyStateFunctionArn',
  'CompleteOperationFunctionArn', 'FailOperationFunctionArn', 'DiscoverResourcesFunctionArn', 'FinishTeardownFunctionArn',
  'PlanScaleFunctionArn', 'CompleteScaleFunctionArn', 'WakerTargetGroupArn',
  'PlanCleanupFunctionArn', 'CleanupEnvironmentFunctionArn', 'ReconcileOrphansFunctionArn', 'HealMissedAlarmsFunctionArn', 'ReportCleanupFunctionArn',
  'InspectEnvironmentFunctionArn', 'FinishHealFunctionArn', 'DegradeEnvironmentFunctionArn', 'NotificationTopicArn', 'RecordHookRunFunctionArn',
  'RecheckDnsRecordFunctionArn',
]);

/**
 * The service and operation a Task calls: `aws-sdk:<service>:<action>`, or an optimized
 * integration whose request is the service's own (`ecs:runTask`, `.sync` or not: RunTask's input;
 * "Run Amazon ECS or Fargate tasks with Step Functions"; `lambda:invoke`, `.waitForTaskToken` or
 * not: Invoke's input, FunctionName required, Payload, InvocationType, Qualifier, ClientContext;
 * "Invoke an AWS Lambda function with Step Functions").
 */
function serviceCall(resource: string | undefined): { service: string; operation: string } | undefined {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource ?? '');
  const optimized = /^arn:aws:states:::(ecs):(runTask)(?:\.sync)?$/.exec(resource ?? '') ?? /^arn:aws:states:::(lambda):(invoke)(?:\.waitForTaskToken)?$/.exec(resource ?? '');
  const [, service, action] = sdk ?? optimized ?? [];
  return service && action ? { service, operation: action.charAt(0).toUpperCase() + action.slice(1) } : undefined;
}

type Retrier = { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number; JitterStrategy?: string; MaxDelaySeconds?: number };
type Catcher = { ErrorEquals: string[]; Next: string };
const retriers = (state: State | undefined) => (state as { Retry?: Retrier[] } | undefined)?.Retry ?? [];
const catchers = (state: State | undefined) => (state as { Catch?: Catcher[] } | undefined)?.Catch ?? [];

/**
 * The throttling errors a service's API Reference lists under "Common Errors" that its model does
 * not declare. The Step Functions guide ("Learning to use AWS service SDK integrations in Step
 * Functions") names an error `<Service>.<Error>` as the API Reference lists it, with the Exception
 * suffix always added; the SDK's own naming (the catch-all for an undeclared code) says otherwise.
 * Until a real account shows which arrives, the ASL names both (statemachines/source/retry-policies.ts),
 * so these are reachable too; no other undeclared name is.
 */
const COMMON_THROTTLING_ERRORS: Record<string, string> = {
  // Amazon ECS API Reference, "Common Errors": ThrottlingException
  ecs: 'ThrottlingException',
  // Elastic Load Balancing API Reference (version 2015-12-01), "Common Errors": Throttling
  elasticloadbalancingv2: 'ThrottlingException',
  // Amazon CloudWatch API Reference, "Common Errors": Throttling
  cloudwatch: 'ThrottlingException',
  // Application Auto Scaling API Reference, "Common Errors": ThrottlingException
  applicationautoscaling: 'ThrottlingException',
};

/**
 * Why `name` cannot reach a Retry/Catch of an `aws-sdk:<service>` Task, or undefined when it can.
 * Step Functions names such an error `<Prefix>.<Error>` after the SDK's exception (Step Functions
 * Developer Guide, "AWS SDK service integrations"): `States.*`, the SDK's own
 * `<Prefix>.SdkClientException`, the catch-all `<Prefix>.<Prefix>Exception` that carries every code
 * the service's model does not declare, or an exception the model declares
 * (infra/local/simulator/service-exceptions.ts). A declared `S` may be spelt with the Exception
 * suffix added unless S ends in it, after Fault or Error too (the guide: always add the Exception
 * suffix; `CloudWatch.LimitExceededFault` never arrives), or with Fault replaced by Exception (the
 * AWS SDK for Java's class name); acronyms in either case (KMS, Kms).
 * A name the model does not declare never arrives and is refused, but for the throttling error the
 * service's API Reference lists under Common Errors (COMMON_THROTTLING_ERRORS: `Ecs.ThrottlingException`).
 */
function unreachableError(service: string, name: string): string | undefined {
  if (name.startsWith('States.')) return undefined;
  const prefix = sfnServicePrefix(service);
  if (!name.startsWith(`${prefix}.`)) return `${name}: not an error of ${prefix}`;
  const error = name.slice(prefix.length + 1);
  if (error === 'SdkClientException' || error === `${prefix}Exception` || error === COMMON_THROTTLING_ERRORS[service]) return undefined;
  const declared = modelledExceptions(service);
  if (!declared) return `${name}: no model of ${service} on this machine`;
  const spellings = new Set([...declared].flatMap((s) => [withExceptionSuffix(s), ...(s.endsWith('Fault') ? [s.replace(/Fault$/, 'Exception')] : [])].map((n) => n.toLowerCase())));
  return spellings.has(error.toLowerCase()) ? undefined : `${name}: ${service}'s model declares no such error (it would arrive as ${prefix}.${prefix}Exception)`;
}

describe('the error names a Retry or Catch may name', () => {
  it('refuses an error the service\'s model does not declare and accepts what Step Functions can name', () => {
    expect(unreachableError('ecs', 'Ecs.ThrottledException')).toMatch(/ecs's model declares no such error \(it would arrive as Ecs.EcsException\)/);
    expect(unreachableError('ecs', 'Ecs.TooManyRequestsException')).toMatch(/declares no such error/);
    expect(unreachableError('elasticloadbalancingv2', 'ElasticLoadBalancingV2.Throttling')).toMatch(/declares no such error/);
    expect(unreachableError('cloudwatch', 'CloudWatch.RequestLimitExceededException')).toMatch(/declares no such error/);
    // the Common Errors table is per service: SNS's throttle is its declared Throttled
    expect(unreachableError('sns', 'Sns.ThrottlingException')).toMatch(/declares no such error/);
    expect(unreachableError('route53', 'Route53.InternalFailureException')).toMatch(/declares no such error/);
    // a declared Fault without the Exception suffix Step Functions always adds
    expect(unreachableError('cloudwatch', 'CloudWatch.LimitExceededFault')).toMatch(/declares no such error/);
    expect(unreachableError('cloudwatch', 'CloudWatch.ResourceNotFound')).toMatch(/declares no such error/);
    expect(unreachableError('ecs', 'Elbv2.ClientException')).toMatch(/not an error of Ecs/);
    for (const [service, name] of [
      ['ecs', 'Ecs.EcsException'], ['ecs', 'Ecs.ClientException'], ['ecs', 'Ecs.SdkClientException'], ['ecs', 'States.ALL'],
      ['route53', 'Route53.PriorRequestNotCompleteException'], ['sns', 'Sns.KmsThrottlingException'], ['sns', 'Sns.ThrottledException'],
      ['cloudwatch', 'CloudWatch.LimitExceededFaultException'], ['cloudwatch', 'CloudWatch.LimitExceededException'], ['cloudwatch', 'CloudWatch.InternalServiceFaultException'],
      ['applicationautoscaling', 'ApplicationAutoScaling.ConcurrentUpdateException'],
    ]) expect(unreachableError(service!, name!), name).toBeUndefined();
  });

  it('accepts the throttling name each API Reference lists under Common Errors, with the Exception suffix (ECS, ELBv2, CloudWatch, Application Auto Scaling)', () => {
    for (const [service, name] of [
      ['ecs', 'Ecs.ThrottlingException'], ['elasticloadbalancingv2', 'ElasticLoadBalancingV2.ThrottlingException'],
      ['cloudwatch', 'CloudWatch.ThrottlingException'], ['applicationautoscaling', 'ApplicationAutoScaling.ThrottlingException'],
    ]) expect(unreachableError(service!, name!), name).toBeUndefined();
  });

  it('reads ECS\'s declared exceptions from @aws-sdk/client-ecs: ClientException is one, ThrottlingException is not', () => {
    const ecs = modelledExceptions('ecs')!;
    expect(ecs.has('ClientException') && ecs.has('ServerException') && ecs.has('InvalidParameterException')).toBe(true);
    expect(ecs.has('ThrottlingException')).toBe(false);
  });
});

describe.each(WORKFLOW_KINDS)('statemachines/%s.asl.json', (kind) => {
  const { text, json } = definition(kind);
  const sdkTasks = tasks(json).filter(([, s]) => s.Type === 'Task' && serviceCall(s.Resource) !== undefined);

  it('is valid Amazon States Language (asl-validator), before and after substitution', () => {
    const raw = aslValidator(json, { checkArn: true, checkPaths: true });
    expect(raw.errors).toEqual([]);
    const substituted = JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, n: string) => (n.endsWith('Arn') ? `arn:aws:lambda:eu-west-1:000000000000:function:${n}` : n)));
    expect(aslValidator(substituted, { checkArn: true, checkPaths: true }).errors).toEqual([]);
  });

  it('uses only the documented substitutions', () => {
    const used = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!));
    expect([...used].filter((n) => !SUBSTITUTIONS.has(n))).toEqual([]);
  });

  it('never names a wildcard resource', () => {
    expect(text).not.toMatch(/"Resource":\s*"\*"/);
  });

  it.each(sdkTasks.map(([name, state]) => [name, state] as const))('%s calls an existing action with parameters of its input shape', (_name, state) => {
    const { service, operation } = serviceCall(state.Resource)!;
    expect(Object.keys(serviceModel(service).operations)).toContain(operation);
    expect(checkAgainstShape(serviceModel(service), inputShape(service, operation), state.Parameters ?? {}, operation)).toEqual([]);
  });

  it.each(sdkTasks.filter(([, state]) => state.Resource!.includes(':aws-sdk:')).map(([name, state]) => [name, state] as const))(
    '%s: every error its Retry and Catch name can reach it (States.*, SdkClientException, the catch-all, or an exception the model declares)',
    (_name, state) => {
      const { service } = serviceCall(state.Resource)!;
      const names = [...retriers(state), ...catchers(state)].flatMap((r) => r.ErrorEquals);
      expect(names.map((n) => unreachableError(service, n)).filter(Boolean)).toEqual([]);
    },
  );

  it.each(sdkTasks.filter(([, state]) => state.Resource!.includes(':aws-sdk:')).map(([name, state]) => [name, state] as const))(
    '%s: every shape AWS throttles its call with, under the name Step Functions gives it, is retried or caught by name (handed to a step that looks again)',
    (_name, state) => {
      const { service, operation } = serviceCall(state.Resource)!;
      const shapes = throttlingErrors(service as SimService, operation, { targetGroupArn: 'arn:tg', familyBusy: true, policyName: 'p' });
      const handled = new Set([...retriers(state), ...catchers(state)].flatMap((r) => r.ErrorEquals));
      expect(shapes.map((shape) => shape.sfnErrorName).filter((name) => !handled.has(name))).toEqual([]);
    },
  );

  const hedged = sdkTasks.filter(([, state]) => state.Resource!.includes(':aws-sdk:') && COMMON_THROTTLING_ERRORS[serviceCall(state.Resource)!.service]);
  it.each(hedged.map(([name, state]) => [name, state] as const))(
    '%s: a throttle is named both ways in the same retrier or Catch, the catch-all and the Common Errors name, until AWS shows which arrives',
    (_name, state) => {
      const { service } = serviceCall(state.Resource)!;
      const prefix = sfnServicePrefix(service);
      const pair = [`${prefix}.${COMMON_THROTTLING_ERRORS[service]}`, `${prefix}.${prefix}Exception`];
      const entries = [...retriers(state), ...catchers(state)].map((entry) => pair.filter((n) => entry.ErrorEquals.includes(n)).length);
      // some entry names both, and none names only one of them
      expect(entries).toContain(2);
      expect(entries.filter((n) => n === 1)).toEqual([]);
    },
  );

  it("retries no Ecs.ClientException: a throttle of that name is told from a real client error by a Choice on its Cause (statemachines/source/cause-loops.ts)", () => {
    for (const [name, state] of tasks(json)) {
      expect(retriers(state).flatMap((r) => r.ErrorEquals), name).not.toContain('Ecs.ClientException');
      if (catchers(state).some((c) => c.ErrorEquals.includes('Ecs.ClientException') && c.Next === `${name}ClientException`)) {
        expect(json.States[`${name}ClientThrottleWait`], name).toMatchObject({ Type: 'Wait', Next: name });
      }
    }
  });

  it('retries throttling on every AWS step with backoff, full jitter, a capped delay and at least 10 attempts', () => {
    // ECS's optimized integration names a refused RunTask ECS.AmazonECSException, throttling included;
    // an aws-sdk integration's throttling that its service does not declare is its catch-all (Ecs.EcsException)
    const THROTTLING = /Throttling|TooManyRequests|Lambda\.ServiceException|ECS\.AmazonECSException|^(\w+)\.\1Exception$/;
    const all = new Map(tasks(json));
    const throttlingRetry = (state: State | undefined) => retriers(state).find((r) => r.ErrorEquals.some((e) => THROTTLING.test(e)));
    for (const [name, state] of tasks(json).filter(([, s]) => s.Type === 'Task')) {
      let throttling = throttlingRetry(state);
      if (!throttling || (throttling.MaxAttempts ?? 3) < 10) {
        // or a throttle (after a few tries of its own) is caught and handed to a step that retries it
        // (RegisterTaskDefinition and RegisterTaskDefinitionAfterThrottling -> FindTaskDefinition)
        const caught = catchers(state).find((c) => c.ErrorEquals.some((e) => THROTTLING.test(e)));
        expect(caught, `${name}: neither retries nor catches throttling`).toBeDefined();
        throttling = throttlingRetry(all.get(caught!.Next));
      }
      expect(throttling, name).toBeDefined();
      expect(throttling!.MaxAttempts, name).toBeGreaterThanOrEqual(10);
      expect(throttling!.BackoffRate, name).toBe(2);
      expect(throttling!.JitterStrategy, name).toBe('FULL');
      expect(throttling!.MaxDelaySeconds, name).toBeLessThanOrEqual(60);
    }
  });
});

describe('the Route 53 tasks (per-environment DNS)', () => {
  it.each([
    ['create', ['CreateDnsRecord', 'DeleteDnsRecord']],
    ['teardown', ['DeleteDnsRecord']],
    ['heal', ['RepairDnsRecord']],
  ] as const)('%s: %j change the alias record through aws-sdk:route53:changeResourceRecordSets, checked against route53-2013-04-01', (kind, names) => {
    const all = new Map(tasks(definition(kind).json));
    for (const name of names) {
      const state = all.get(name)!;
      expect(state.Resource).toBe('arn:aws:states:::aws-sdk:route53:changeResourceRecordSets');
      expect(checkAgainstShape(serviceModel('route53'), inputShape('route53', 'ChangeResourceRecordSets'), state.Parameters ?? {}, 'ChangeResourceRecordSets')).toEqual([]);
    }
  });

  it('the model check catches a Route 53 parameter AWS would refuse (an alias without EvaluateTargetHealth, a misspelt member)', () => {
    const problems = checkAgainstShape(serviceModel('route53'), inputShape('route53', 'ChangeResourceRecordSets'), {
      HostedZoneId: 'Z1', ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'a.', Type: 'A', AliasTarget: { HostedZoneId: 'Z2', DNSName: 'x' }, Ttl: 60 } }] },
    }, 'ChangeResourceRecordSets');
    expect(problems.join('\n')).toMatch(/EvaluateTargetHealth: required member missing/);
    expect(problems.join('\n')).toMatch(/Ttl: not a member/);
  });
});

describe('the optimized ECS integration', () => {
  it('a hook\'s runTask.sync is checked against RunTask\'s input shape', () => {
    const run = tasks(definition('create').json).find(([name]) => name === 'RunAfterCreateHook')?.[1];
    expect(serviceCall(run?.Resource)).toEqual({ service: 'ecs', operation: 'RunTask' });
    // a misspelt member is caught
    expect(checkAgainstShape(serviceModel('ecs'), inputShape('ecs', 'RunTask'), { ...run!.Parameters, Overides: {} }, 'RunTask')).toEqual([
      expect.stringMatching(/^RunTask\.Overides: not a member/),
    ]);
  });
});

describe('the service model check', () => {
  it('rejects an unknown member, a missing required member and a wrongly typed nested literal', () => {
    const model = serviceModel('ecs');
    const problems = checkAgainstShape(model, inputShape('ecs', 'CreateService'), { Servicename: 'x', DesiredCount: '1', DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: 'yes' } } }, 'CreateService');
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^CreateService\.Servicename: not a member/),
      'CreateService.DesiredCount: expected a number',
      'CreateService.DeploymentConfiguration.DeploymentCircuitBreaker.Enable: expected a boolean',
      'CreateService.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback: required member missing',
      'CreateService.ServiceName: required member missing',
    ]));
  });
});
