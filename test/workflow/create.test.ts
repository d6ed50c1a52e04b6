import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, FAST, SimHarness, spec, transitionsBesidesWaits } from './support/sim-harness.ts';
import { targetGroupName } from '../../functions/domain/resource-names.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST }));

describe('create workflow', () => {
  it('creates the task definition, target group, rule and service, and ends RUNNING with its url', async () => {
    const record = await h.created('web-happy', spec({ environment: { B: '2', A: '1' }, secrets: { DB_PASSWORD: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-AbCdEf' } }));

    expect(record.status).toBe('SUCCEEDED');
    expect(transitionsBesidesWaits(record)).toBeLessThanOrEqual(25);
    expect(record.statesEntered).toEqual([
      'PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'CreateTargetGroup', 'ModifyTargetGroupAttributes', 'CreateRule',
      'DnsRecordWanted', 'CreateService', 'PutTasksAlarm', 'PutUnhealthyAlarm', 'Put5xxAlarm', 'ApplyInitialScaling', 'AwaitSteadyState', 'AfterCreateHook', 'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentReady',
    ]);

    // content-addressed and shared: nothing in it names the environment (as ECS describes it)
    const [registered] = h.sim.resources().taskDefinitions;
    const { TaskDefinition: td, Tags: tdTags } = await h.aws('ecs', 'DescribeTaskDefinition', { TaskDefinition: registered!.arn, Include: ['TAGS'] });
    const hash = /^fledge-td-([0-9a-f]{32})$/.exec(td!.Family)?.[1];
    expect(hash).toBeDefined();
    expect(td).toMatchObject({ Cpu: '256', Memory: '512', NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'] });
    expect(tdTags).toEqual([{ Key: 'fledge:managed-by', Value: 'fledge' }, { Key: 'fledge:task-definition-hash', Value: hash }]);
    expect(JSON.stringify({ td, tdTags })).not.toContain('web-happy');
    expect(td!.ContainerDefinitions[0]).toMatchObject({
      Name: 'app', Image: 'ghcr.io/acme/web:1.0',
      Environment: [{ Name: 'A', Value: '1' }, { Name: 'B', Value: '2' }],
      Secrets: [{ Name: 'DB_PASSWORD', ValueFrom: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-AbCdEf' }],
      LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': '/fledge/environments', 'awslogs-stream-prefix': 'fledge' } },
    });
    const tg = await h.targetGroup('web-happy');
    expect(tg).toMatchObject({ TargetGroupName: targetGroupName('test', 'web-happy'), TargetType: 'ip', Port: 8080, HealthCheckPath: '/', HealthCheckIntervalSeconds: 10, VpcId: h.sim.config.vpcId });
    // the one attribute set, and ELB's answer for it
    expect(h.callsOf('ModifyTargetGroupAttributes').map((c) => c.params.Attributes)).toEqual([[{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }]]);
    const { Attributes } = await h.aws('elasticloadbalancingv2', 'DescribeTargetGroupAttributes', { TargetGroupArn: tg.TargetGroupArn });
    expect(Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '5' });
    const [rule] = await h.rules();
    expect(h.callsOf('CreateRule')[0]!.params.Conditions).toEqual([{ Field: 'host-header', HostHeaderConfig: { Values: [`web-happy.${BASE_DOMAIN}`] } }]);
    expect(rule!.Conditions).toMatchObject([{ Field: 'host-header', HostHeaderConfig: { Values: [`web-happy.${BASE_DOMAIN}`] } }]);
    expect(h.callsOf('CreateRule')[0]!.params.Actions).toEqual([{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }]);
    expect(rule!.Actions).toMatchObject([{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }]);
    const create = h.callsOf('CreateService')[0]!.params;
    expect(create).toMatchObject({
      ServiceName: 'web-happy', DesiredCount: 1, LaunchType: 'FARGATE', PropagateTags: 'SERVICE',
      DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
      NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-a', 'subnet-b'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' } },
      LoadBalancers: [{ TargetGroupArn: tg!.TargetGroupArn, ContainerName: 'app', ContainerPort: 8080 }],
      TaskDefinition: td.TaskDefinitionArn,
    });
    expect(create.ClientToken).toMatch(/^[0-9a-f]{32}$/);

    const item = await h.item('web-happy');
    expect(item).toMatchObject({
      status: 'RUNNING', gsiStatusPk: 'STATUS#RUNNING', url: `https://web-happy.${BASE_DOMAIN}`, runningCount: 1,
      appliedSpecVersion: 1, lastHealthyImage: 'ghcr.io/acme/web:1.0', healthyImages: ['ghcr.io/acme/web:1.0'],
      operation: { status: 'SUCCEEDED' },
    });
    expect(item!.waitToken).toBeUndefined();
    expect(await h.priorityHolder(item!.listenerPriority)).toBe('web-happy');
    expect(Number(rule!.Priority)).toBe(item!.listenerPriority);
    const events = await h.events('web-happy');
    expect(events[0]).toMatchObject({ type: 'created' });
    expect(h.runner.pendingTaskTokens()).toEqual([]);
  });

  it('a second environment with the same definition runs the first one\'s task definition and registers none', async () => {
    await h.created('twin-a', spec({ environment: { A: '1' } }));
    const record = await h.created('twin-b', spec({ environment: { A: '1' } }));
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 3)).toEqual(['PlanResources', 'TaskDefinitionRegistered', 'CreateTargetGroup']);
    expect(h.callsOf('RegisterTaskDefinition')).toHaveLength(1);
    const [a, b] = h.callsOf('CreateService').map((c) => c.params.TaskDefinition);
    expect(b).toBe(a);
    // another definition is another family
    await h.created('other', spec({ environment: { A: '2' } }));
    expect(h.callsOf('RegisterTaskDefinition')).toHaveLength(2);
    expect(h.callsOf('CreateService')[2]!.params.TaskDefinition).not.toBe(a);
  });

  it('a throttled registration finds the revision another create of the same definition registered meanwhile', async () => {
    await h.created('first');
    // this create's lookup and its registration are throttled (a burst of creates of one image);
    // the lookup's SDK client tries a throttled call 3 times in all (the SDK's standard retry mode), so all 3 are
    h.throttle('DescribeTaskDefinition', 3);
    h.throttle('RegisterTaskDefinition', 1);
    const record = await h.created('burst');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 5)).toEqual(['PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'FindTaskDefinition', 'CreateTargetGroup']);
    expect(h.sim.resources().taskDefinitions).toHaveLength(1);
    const [first, burst] = h.callsOf('CreateService').map((c) => c.params.TaskDefinition);
    expect(burst).toBe(first);
  });

  it('a throttled registration of a new definition waits for the bucket, looking for the revision between tries: it gets through 10 more throttled calls in a row', async () => {
    h.throttle('RegisterTaskDefinition', 11);
    const record = await h.created('patient');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 5)).toEqual(['PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'FindTaskDefinition', 'RegisterTaskDefinitionAfterThrottling']);
    // a few tries, then FindTaskDefinition looks again (none yet), and again, until a registration gets through
    expect(record.statesEntered.filter((s) => s === 'FindTaskDefinition').length).toBeGreaterThan(1);
    expect(record.statesEntered.at(record.statesEntered.indexOf('CreateTargetGroup') - 1)).toBe('RegisterTaskDefinitionAfterThrottling');
    expect(h.callsOf('RegisterTaskDefinition')).toHaveLength(12);
    expect(h.sim.resources().taskDefinitions).toHaveLength(1);
  });

  it('a FindTaskDefinition still throttled after its 40 tries hands over to a registration instead of failing the create', async () => {
    // a revision of this content exists: FindTaskDefinition would find it, were it not throttled out
    await h.created('find-first');
    // the plan's lookup (3 tries of the SDK), the first registration, then all 41 of FindTaskDefinition's calls
    h.throttle('DescribeTaskDefinition', 3 + 41);
    h.throttle('RegisterTaskDefinition', 1);
    const record = await h.created('find-throttled');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 6)).toEqual([
      'PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'FindTaskDefinition', 'RegisterTaskDefinitionAfterThrottling', 'CreateTargetGroup',
    ]);
    // it registered a second revision of the same content (harmless) rather than fail
    expect(h.sim.resources().taskDefinitions).toHaveLength(2);
  });

  it('a registration still throttled after its few tries finds the revision another create of the same content registered meanwhile, and registers nothing', async () => {
    await h.created('same-first');
    // the first create's revision exists, but this create's plan did not see it (its lookup was throttled)
    h.throttle('DescribeTaskDefinition', 3);
    h.throttle('RegisterTaskDefinition', 5);
    const record = await h.created('same-second');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 4)).toEqual(['PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'FindTaskDefinition']);
    expect(h.sim.resources().taskDefinitions).toHaveLength(1);
    const [first, second] = h.callsOf('CreateService').map((c) => c.params.TaskDefinition);
    expect(second).toBe(first);
  });

  it('gives two environments different listener priorities', async () => {
    await h.created('prio-a');
    await h.created('prio-b');
    const a = await h.item('prio-a');
    const b = await h.item('prio-b');
    expect(a!.listenerPriority).not.toBe(b!.listenerPriority);
  });

  const steps = [
    // a ClientException can be ECS's "too many concurrent registrations of this family" (a throttle), so a
    // first one goes to FindTaskDefinition and registers again: a real client error fails every registration
    // errors by their wire codes, as AWS answers them (ELBv2's TooManyTargetGroups is the SDK's TooManyTargetGroupsException)
    { step: 'RegisterTaskDefinition', error: ['ClientException', 'invalid container definition'], code: 'INTERNAL', left: [] as string[], times: 10 },
    { step: 'CreateTargetGroup', error: ['TooManyTargetGroups', 'too many target groups'], code: 'AWS_LIMIT', left: [] },
    { step: 'ModifyTargetGroupAttributes', error: ['InvalidConfigurationRequest', 'bad attribute'], code: 'INTERNAL', left: ['DeleteTargetGroup'] },
    { step: 'CreateRule', error: ['TooManyRules', 'too many rules'], code: 'AWS_LIMIT', left: ['DeleteTargetGroup'] },
    { step: 'CreateService', error: ['InvalidParameterException', 'subnet not found'], code: 'INTERNAL', left: ['DeleteRule', 'DeleteTargetGroup'] },
  ];
  for (const { step, error, code, left, times } of steps as { step: string; error: [string, string]; code: string; left: string[]; times?: number }[]) {
    it(`undoes everything made before a failure at ${step}, then records FAILED (${code})`, async () => {
      const name = `fault-${step.toLowerCase().slice(0, 20)}`;
      h.failOn(step, ...error, times);
      const input = await h.seed(name, spec());
      const record = await h.run('create', input);

      expect(record.status).toBe('FAILED');
      expect(record.error).toBe('CreateFailed');
      // the task definition is shared (other environments may run it): compensation keeps it, the failed event names it
      const registered = h.callsOf('RegisterTaskDefinition').length > 0 && step !== 'RegisterTaskDefinition';
      const kept = registered ? h.sim.resources().taskDefinitions.map((t) => t.arn) : [];
      expect(h.leftovers()).toEqual({ services: [], targetGroups: [], rules: [], activeTaskDefinitions: kept });
      const compensation = h.calls.filter((c) => c.via === 'workflow' && /^(Delete|Deregister)/.test(c.action)).map((c) => c.action);
      expect(compensation).toEqual(left);
      const failed = (await h.events(name))[0]!;
      expect(failed.details).toMatchObject(registered ? { kept } : {});
      expect(record.statesEntered).toContain('FailOperation');
      const item = await h.item(name);
      expect(item).toMatchObject({ status: 'FAILED', gsiStatusPk: 'STATUS#FAILED', operation: { status: 'FAILED', error: { code } } });
      // the stored message names the error, never AWS's text, an ARN or the account (docs/security.md "What reaches callers")
      expect(item!.operation.error.message).not.toMatch(/arn:|000000000000|too many|bad attribute|subnet not found|invalid container/);
      expect(failed.message).not.toMatch(/arn:|000000000000/);
      expect(item!.listenerPriority).toBeUndefined();
      const priorityPlanned = (await h.events(name)).find((e) => e.type === 'provisioning')?.details?.listenerPriority as number;
      expect(await h.priorityHolder(priorityPlanned)).toBeUndefined();
      expect((await h.events(name))[0]).toMatchObject({ type: 'failed' });
    });
  }

  const images = [
    { tag: 'fail-pull', code: 'IMAGE_PULL_FAILED', message: /pulled/ },
    { tag: 'fail-start', code: 'TASK_EXITED', message: /exit code 1/ },
    { tag: 'fail-oom', code: 'OUT_OF_MEMORY', message: /memory/ },
    { tag: 'fail-health', code: 'HEALTH_CHECK_FAILED', message: /health/ },
  ];
  for (const { tag, code, message } of images) {
    it(`a deployment that fails (${tag}) is torn back down and reported as ${code}`, async () => {
      const name = `img-${tag}`;
      const input = await h.seed(name, spec({ image: `ghcr.io/acme/web:${tag}` }));
      const record = await h.run('create', input);
      expect(record.status).toBe('FAILED');
      expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
      expect(h.callsOf('DeregisterTaskDefinition')).toEqual([]);
      const item = await h.item(name);
      expect(item!.status).toBe('FAILED');
      expect(item!.operation.error.code).toBe(code);
      expect(item!.operation.error.message).toMatch(message);
    });
  }

  it('a lost ECS event costs one poll: the create still ends RUNNING', async () => {
    // every ECS event is lost (EventBridge at its worst: hostile mode dropping them all, nothing else hostile)
    await h.reset({
      timeoutOverrides: { AwaitSteadyState: 0.3 },
      simulator: { ...FAST, hostile: true, hostileRates: { eventDropRate: 1, eventDuplicateRate: 0, eventMaxDelayMs: 0, staleReadMs: 0, throttleRate: 0 } },
    });
    const input = await h.seed('event-lost', spec());
    const record = await h.run('create', input);
    expect(record.status).toBe('SUCCEEDED');
    const item = await h.item('event-lost');
    expect(item!.status).toBe('RUNNING');
    expect(item!.waitToken).toBeUndefined();
  });

  it('a service that never becomes steady times out as TIMEOUT after its bounded polls and is removed', async () => {
    // neither steady nor failed, however often it is asked: its tasks take an hour to start
    await h.reset({ timeoutOverrides: { AwaitSteadyState: 0.05 }, simulator: { taskStartMs: 3_600_000, taskStopMs: 20, drainMs: 40 } });
    const input = await h.seed('never-steady', spec());
    const record = await h.run('create', input);
    expect(record.status).toBe('FAILED');
    expect(h.leftovers().services).toEqual([]);
    const item = await h.item('never-steady');
    expect(item!.operation.error.code).toBe('TIMEOUT');
    expect(item!.waitToken).toBeUndefined();
    // the poll ran its MaxAttempts: one entry plus 29 retries
    expect(h.callsOf('DescribeServices').length).toBeGreaterThanOrEqual(30);
  });

  it('gets through 10 throttled calls in a row at an ECS and an ELB step', async () => {
    h.throttle('CreateService', 10);
    h.throttle('CreateRule', 10);
    const record = await h.created('throttled');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.callsOf('CreateService')).toHaveLength(11);
    expect(h.callsOf('CreateRule')).toHaveLength(11);
    expect(record.stateTransitions).toBeGreaterThanOrEqual(30);
  });

  /** CreateService answers `Ecs.<loop>Exception` `message` once, not one to wait out: the create fails at once (no retry, no wait) and is rolled back. */
  async function failsAtOnce(name: string, loop: 'Client' | 'InvalidParameter', message: string): Promise<void> {
    h.failOn('CreateService', `${loop}Exception`, message, 1);
    const record = await h.run('create', await h.seed(name, spec()));
    expect(record.status).toBe('FAILED');
    expect(h.callsOf('CreateService')).toHaveLength(1);
    expect(record.retries.CreateService ?? 0).toBe(0);
    expect(record.statesEntered).toContain(`CreateService${loop}Failed`);
    expect(record.statesEntered.filter((s) => s.startsWith('CreateService') && s.endsWith('Wait'))).toEqual([]);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
  }

  describe("ECS's ClientException throttles (Retry cannot read the Cause: a Choice does)", () => {
    const throttled = (arn = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/x/1') => `Received throttling error when describing target group ${arn}`;

    it('a CreateService refused 10 times with the target-group throttle, past the ~14 s a Retry of Ecs.ClientException gave it, is called again after each wait: the create ends RUNNING', async () => {
      h.failOn('CreateService', 'ClientException', throttled(), 10);
      const record = await h.created('client-throttled');
      expect(record.status).toBe('SUCCEEDED');
      expect(h.callsOf('CreateService')).toHaveLength(11);
      expect(record.statesEntered.filter((s) => s === 'CreateServiceClientThrottleWait')).toHaveLength(10);
      // each wait is at least 2 s on AWS (States.MathRandom(2, 10)): 10 of them outlast the old 3 tries (~14 s)
      expect(10 * 2).toBeGreaterThan(14);
      expect(record.retries.CreateService ?? 0).toBe(0);
      expect((await h.item('client-throttled'))!.status).toBe('RUNNING');
    });

    it('a RegisterTaskDefinition refused with "Too many concurrent attempts" after FindTaskDefinition found none is registered again after a wait', async () => {
      h.failOn('RegisterTaskDefinition', 'ClientException', 'Too many concurrent attempts to create a new revision of the specified family.', 6);
      const record = await h.created('client-family-busy');
      expect(record.status).toBe('SUCCEEDED');
      expect(record.statesEntered).toContain('RegisterTaskDefinitionAfterThrottlingClientThrottleWait');
      expect((await h.item('client-family-busy'))!.status).toBe('RUNNING');
    });

    it('a ClientException that is not a throttle fails CreateService at once (no retry, no wait) and the create is rolled back', async () => {
      await failsAtOnce('client-real', 'Client', 'The target group with targetGroupArn arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/x/1 does not have an associated load balancer.');
      expect((await h.item('client-real'))!.operation).toMatchObject({ status: 'FAILED', error: { code: 'INTERNAL' } });
    });

    it('a throttle that outlasts the bound (30 tries) fails the create like any other error', async () => {
      h.failOn('CreateService', 'ClientException', throttled(), 31);
      const record = await h.run('create', await h.seed('client-bound', spec()));
      expect(record.status).toBe('FAILED');
      expect(h.callsOf('CreateService')).toHaveLength(31);
      expect(record.statesEntered.filter((s) => s === 'CreateServiceClientThrottleWait')).toHaveLength(30);
      expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
      expect((await h.item('client-bound'))!.operation.error.code).toBe('AWS_LIMIT');
    });
  });

  describe('a draining name at CreateService (PlanResources\' eventually consistent read missed it)', () => {
    it('"Unable to Start a service that is still Draining." is waited out and CreateService called again: the create ends RUNNING', async () => {
      h.failOn('CreateService', 'InvalidParameterException', 'Unable to Start a service that is still Draining.', 2);
      const record = await h.created('drain-missed');
      expect(record.status).toBe('SUCCEEDED');
      expect(h.callsOf('CreateService')).toHaveLength(3);
      expect(record.statesEntered.filter((s) => s === 'CreateServiceDrainingWait')).toHaveLength(2);
      expect(record.statesEntered).not.toContain('UndoCreatedResources');
      expect((await h.item('drain-missed'))!.status).toBe('RUNNING');
    });

    it('any other InvalidParameterException fails CreateService at once and the create is rolled back, as before', async () => {
      await failsAtOnce('drain-other', 'InvalidParameter', 'The container app does not exist in the task definition.');
    });

    it('a name that stays draining past the bound (45 waits, ~10 minutes on AWS) fails the create', async () => {
      h.failOn('CreateService', 'InvalidParameterException', 'Unable to Start a service that is still Draining.', 46);
      const record = await h.run('create', await h.seed('drain-forever', spec()));
      expect(record.status).toBe('FAILED');
      expect(h.callsOf('CreateService')).toHaveLength(46);
      expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
    });
  });

  it('converges to a spec accepted while it was waiting, recording the skipped version', async () => {
    // two PUTs while the first deployment runs (once CreateService started it)
    h.afterCall = async (call) => {
      if (call.action !== 'CreateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec('converge', spec({ image: 'ghcr.io/acme/web:2.0' }));
      await h.acceptNewSpec('converge', spec({ image: 'ghcr.io/acme/web:3.0' }));
    };
    const input = await h.seed('converge', spec());
    const record = await h.run('create', input);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual([
      'PlanResources', 'TaskDefinitionRegistered', 'RegisterTaskDefinition', 'CreateTargetGroup', 'ModifyTargetGroupAttributes', 'CreateRule',
      'DnsRecordWanted', 'CreateService', 'PutTasksAlarm', 'PutUnhealthyAlarm', 'Put5xxAlarm', 'ApplyInitialScaling', 'AwaitSteadyState', 'AfterCreateHook', 'CompleteOperation', 'CheckDesiredSpec',
      'KeepServingTaskDefinition', 'RegisterConvergedTaskDefinition', 'BeforeUpdateHook', 'ModifyConvergedTargetGroup', 'UpdateService', 'AwaitSteadyState',
      'AfterCreateHook', 'AfterUpdateHook', 'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentReady',
    ]);
    // a convergence pass is deployed like an update: the serving revision kept, and the update's two hook Choices (3 transitions)
    expect(transitionsBesidesWaits(record)).toBeLessThanOrEqual(28);
    const item = await h.item('converge');
    expect(item).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 3, lastHealthyImage: 'ghcr.io/acme/web:3.0' });
    expect(item!.healthyImages).toEqual(['ghcr.io/acme/web:3.0', 'ghcr.io/acme/web:1.0']);
    const types = (await h.events('converge')).map((e) => e.type);
    expect(types).toContain('spec-skipped');
    expect(types).toContain('converging');
    const skipped = (await h.events('converge')).find((e) => e.type === 'spec-skipped');
    expect(skipped!.details).toEqual({ specVersion: 2 });
    expect(h.callsOf('UpdateService')[0]!.params).toMatchObject({ Service: 'converge', ForceNewDeployment: false });
  });

  it('a retried create of a FAILED environment reuses nothing stale and succeeds', async () => {
    h.failOn('CreateService', 'InvalidParameterException', 'boom');
    const first = await h.run('create', await h.seed('retry-me', spec()));
    expect(first.status).toBe('FAILED');
    const second = await h.run('create', await h.seed('retry-me', spec(), { status: 'UPDATING', specVersion: 1 }));
    expect(second.status).toBe('SUCCEEDED');
    expect((await h.item('retry-me'))!.status).toBe('RUNNING');
  });
});
