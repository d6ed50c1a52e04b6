/**
 * A small in-memory ECS + ELBv2 for the workflow tests: it records every call, keeps just
 * enough state to prove nothing leaked, injects faults at any action, and plays the ECS
 * side of a deployment (steady, or stopped tasks + a failed deployment event, rolled back
 * when there is a previous deployment). The ASL steps reach it through `callAws`
 * (PascalCase, as Step Functions sends it), the task Lambdas through `ecs.send` /
 * `elbv2.send` (SDK v3 commands).
 */
export interface Call {
  service: string;
  action: string;
  params: Record<string, unknown>;
  via: 'workflow' | 'lambda';
}

export class FakeAwsError extends Error {
  $metadata = { httpStatusCode: 400 };
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type Outcome =
  | { kind: 'steady' }
  | { kind: 'fail'; stoppedReason: string; stopCode?: string; containerReason?: string; exitCode?: number };

/** Deployment outcome by image tag, like local mode's failing images (infra/local/README.md). */
export function outcomeForImage(image: string): Outcome {
  const tag = image.split(':').pop() ?? '';
  if (tag.startsWith('fail-pull')) {
    return { kind: 'fail', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): manifest unknown', containerReason: 'CannotPullContainerError: manifest unknown' };
  }
  if (tag.startsWith('fail-start')) {
    return { kind: 'fail', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 1 };
  }
  if (tag.startsWith('fail-oom')) {
    return { kind: 'fail', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containerReason: 'OutOfMemoryError: Container killed due to memory usage', exitCode: 137 };
  }
  if (tag.startsWith('fail-health')) {
    return { kind: 'fail', stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/x/1)' };
  }
  return { kind: 'steady' };
}

interface Fault {
  action: string;
  error: () => Error;
  remaining: number;
}

const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';

function pascal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascal);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(v)]));
  }
  return value;
}

function camel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camel);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camel(v)]));
  }
  return value;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EcsEvent {
  'detail-type': string;
  source: 'aws.ecs';
  resources: string[];
  detail: { eventName: string; eventType: string; reason?: string; deploymentId?: string };
}

export class FakeAws {
  calls: Call[] = [];
  faults: Fault[] = [];
  services = new Map<string, Obj>();
  taskDefinitions = new Map<string, Obj>();
  targetGroups = new Map<string, Obj>();
  rules = new Map<string, Obj>();
  stoppedTasks: Obj[] = [];
  /** where ECS events go (the test wires the real event handler here) */
  onEvent: (event: EcsEvent) => Promise<unknown> = async () => undefined;
  /** runs once before a deployment's outcome is reported (a test's "PUT during the wait") */
  beforeSettle: (() => Promise<void>) | undefined;
  /** false: deployments never finish (neither steady nor failed), as a service stuck starting */
  settles = true;
  /** deployments that have not reported their outcome yet */
  private unsettled = new Set<string>();
  private counter = 0;
  readonly clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/fledge`;
  readonly listenerArn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/fledge/abc/def`;
  /** the shared Lambda target group of the waker (sleeping environments' rules forward to it) */
  readonly wakerTargetGroupArn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/FledgeWaker/0123456789abcdef`;
  /** Application Auto Scaling: scalable targets by resource id, and their policies */
  scalableTargets = new Map<string, Obj>();
  scalingPolicies = new Map<string, Obj>();

  /** the next `times` calls of `action` throw */
  failOn(action: string, error: () => Error, times = 1): void {
    this.faults.push({ action, error, remaining: times });
  }

  throttle(action: string, times: number): void {
    const service = this.serviceOf(action);
    this.failOn(action, () => new FakeAwsError(service === 'ecs' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded'), times);
  }

  callsOf(action: string): Call[] {
    return this.calls.filter((c) => c.action === action);
  }

  /** what is left that costs money or blocks a name: ACTIVE task definitions count too */
  leftovers() {
    return {
      services: [...this.services.values()].filter((s) => s.Status !== 'INACTIVE').map((s) => s.ServiceArn as string),
      targetGroups: [...this.targetGroups.keys()],
      rules: [...this.rules.keys()],
      activeTaskDefinitions: [...this.taskDefinitions.values()].filter((t) => t.Status === 'ACTIVE').map((t) => t.TaskDefinitionArn as string),
    };
  }

  callAws = async (service: string, action: string, params: Record<string, unknown>): Promise<unknown> => {
    this.calls.push({ service, action, params, via: 'workflow' });
    return this.dispatch(action, params);
  };

  ecs = { send: async (command: { input: Obj }) => this.sdkSend('ecs', command, true) };
  elbv2 = { send: async (command: { input: Obj }) => this.sdkSend('elasticloadbalancingv2', command, false) };
  cloudwatch = { send: async (command: { input: Obj }) => this.sdkSend('cloudwatch', command, false) };
  /** CloudWatch alarms by name (PutMetricAlarm input) */
  alarms = new Map<string, Obj>();

  private async sdkSend(service: string, command: { input: Obj }, camelCase: boolean) {
    const action = command.constructor.name.replace(/Command$/, '');
    const params = (camelCase ? pascal(command.input) : command.input) as Obj;
    this.calls.push({ service, action, params, via: 'lambda' });
    const result = await this.dispatch(action, params);
    return camelCase ? camel(result) : result;
  }

  private serviceOf(action: string): string {
    if (/Alarm/.test(action)) return 'cloudwatch';
    return /TargetGroup|Rule|Tags/.test(action) ? 'elasticloadbalancingv2' : 'ecs';
  }

  private async dispatch(action: string, p: Obj): Promise<unknown> {
    const fault = this.faults.find((f) => f.action === action && f.remaining > 0);
    if (fault) {
      fault.remaining--;
      throw fault.error();
    }
    const handler = (this as unknown as Record<string, (p: Obj) => unknown>)[`do${action}`];
    if (!handler) throw new Error(`fake AWS does not implement ${action}`);
    return handler.call(this, p);
  }

  private id(): string {
    return String(++this.counter).padStart(6, '0');
  }

  // ---- ECS ------------------------------------------------------------------------------
  doRegisterTaskDefinition(p: Obj) {
    const family = p.Family as string;
    const revision = [...this.taskDefinitions.values()].filter((t) => t.Family === family).length + 1;
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
    const td = { ...p, TaskDefinitionArn: arn, Revision: revision, Status: 'ACTIVE' };
    this.taskDefinitions.set(arn, td);
    return { TaskDefinition: td };
  }

  doDeregisterTaskDefinition(p: Obj) {
    const td = this.taskDefinitions.get(p.TaskDefinition);
    if (!td || td.Status !== 'ACTIVE') throw new FakeAwsError('ClientException', 'The specified task definition does not exist or is inactive.');
    td.Status = 'INACTIVE';
    return { TaskDefinition: td };
  }

  doDeleteTaskDefinitions(p: Obj) {
    const failures: Obj[] = [];
    const deleted: Obj[] = [];
    for (const arn of p.TaskDefinitions as string[]) {
      const td = this.taskDefinitions.get(arn);
      if (!td || td.Status !== 'INACTIVE') failures.push({ Arn: arn, Reason: 'The specified task definition is not INACTIVE.' });
      else {
        this.taskDefinitions.delete(arn);
        deleted.push({ ...td, Status: 'DELETE_IN_PROGRESS' });
      }
    }
    return { TaskDefinitions: deleted, Failures: failures };
  }

  doListTaskDefinitions(p: Obj) {
    const arns = [...this.taskDefinitions.values()]
      .filter((t) => (t.Family as string).startsWith(p.FamilyPrefix ?? '') && (!p.Status || t.Status === p.Status))
      .map((t) => t.TaskDefinitionArn as string);
    return { TaskDefinitionArns: arns };
  }

  doCreateService(p: Obj) {
    const existing = this.services.get(p.ServiceName);
    if (existing && existing.Status !== 'INACTIVE') {
      if (existing.ClientToken === p.ClientToken) return { Service: existing };
      throw new FakeAwsError('InvalidParameterException', 'Creation of service was not idempotent.');
    }
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/fledge/${p.ServiceName}`;
    const service: Obj = {
      ServiceArn: arn, ServiceName: p.ServiceName, Status: 'ACTIVE', DesiredCount: p.DesiredCount, RunningCount: 0,
      TaskDefinition: p.TaskDefinition, ClientToken: p.ClientToken, LoadBalancers: p.LoadBalancers, Tags: p.Tags,
      Deployments: [], History: [] as string[],
    };
    this.services.set(p.ServiceName, service);
    this.deploy(service, p.TaskDefinition, 'create');
    return { Service: service };
  }

  doUpdateService(p: Obj) {
    const service = this.services.get(p.Service);
    if (!service) throw new FakeAwsError('ServiceNotFoundException', 'Service not found.');
    if (service.Status !== 'ACTIVE') throw new FakeAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (p.DesiredCount !== undefined) service.DesiredCount = p.DesiredCount;
    this.deploy(service, p.TaskDefinition ?? service.TaskDefinition, 'update');
    return { Service: service };
  }

  doDeleteService(p: Obj) {
    const service = this.services.get(p.Service);
    if (!service) throw new FakeAwsError('ServiceNotFoundException', 'Service not found.');
    if (service.Status !== 'ACTIVE') throw new FakeAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (!p.Force && service.DesiredCount > 0) throw new FakeAwsError('InvalidParameterException', 'The service cannot be stopped while it is scaled above 0.');
    service.Status = 'INACTIVE';
    service.DesiredCount = 0;
    service.RunningCount = 0;
    return { Service: service };
  }

  doDescribeServices(p: Obj) {
    const services = (p.Services as string[]).map((n) => this.services.get(n.slice(n.lastIndexOf('/') + 1))).filter(Boolean) as Obj[];
    for (const service of services) this.maybeSettle(service);
    return { Services: services.map((s) => ({ ...s })), Failures: [] };
  }

  doListTasks(p: Obj) {
    const family = p.Family as string | undefined;
    const serviceName = p.ServiceName as string | undefined;
    if (serviceName !== undefined && this.services.get(serviceName)?.Status !== 'ACTIVE') {
      throw new FakeAwsError('ServiceNotFoundException', 'Service not found.');
    }
    const tasks = this.stoppedTasks.filter(
      (t) => (!family || (t.TaskDefinitionArn as string).includes(`/${family}:`)) && (!serviceName || t.Group === `service:${serviceName}`),
    );
    return { TaskArns: tasks.map((t) => t.TaskArn) };
  }

  doDescribeTasks(p: Obj) {
    return { Tasks: this.stoppedTasks.filter((t) => (p.Tasks as string[]).includes(t.TaskArn)), Failures: [] };
  }

  private deploy(service: Obj, taskDefinition: string, phase: 'create' | 'update') {
    const previous = service.Deployments.find((d: Obj) => d.Status === 'PRIMARY' && d.RolloutState === 'COMPLETED');
    const deployment = {
      Id: `ecs-svc/${this.id()}`, Status: 'PRIMARY', TaskDefinition: taskDefinition, RolloutState: 'IN_PROGRESS',
      DesiredCount: service.DesiredCount, RunningCount: 0, Previous: previous?.TaskDefinition, Phase: phase, CreatedAt: new Date(),
    };
    service.Deployments = [deployment, ...(previous ? [{ ...previous, Status: 'ACTIVE' }] : [])];
    service.TaskDefinition = taskDefinition;
    this.unsettled.add(service.ServiceName);
  }

  /** A deployment reports its outcome (asynchronously) once a waiter looked at it. */
  private maybeSettle(service: Obj) {
    if (!this.settles || !this.unsettled.has(service.ServiceName)) return;
    this.unsettled.delete(service.ServiceName);
    setTimeout(() => void this.settle(service), 5);
  }

  private async settle(service: Obj) {
    const hook = this.beforeSettle;
    this.beforeSettle = undefined;
    if (hook) await hook();
    const deployment = service.Deployments[0];
    const td = this.taskDefinitions.get(deployment.TaskDefinition);
    const image = (td?.ContainerDefinitions?.[0]?.Image as string) ?? '';
    const outcome = outcomeForImage(image);
    if (outcome.kind === 'steady') {
      deployment.RolloutState = 'COMPLETED';
      deployment.RunningCount = service.DesiredCount;
      service.RunningCount = service.DesiredCount;
      service.Deployments = [deployment];
      await this.onEvent(this.event(service, 'ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO', deployment.Id));
      await this.onEvent(this.event(service, 'ECS Service Action', 'SERVICE_STEADY_STATE', 'INFO'));
      return;
    }
    for (let i = 0; i < 3; i++) {
      this.stoppedTasks.push({
        TaskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/fledge/${this.id()}`,
        TaskDefinitionArn: deployment.TaskDefinition,
        Group: `service:${service.ServiceName}`,
        StopCode: outcome.stopCode,
        StoppedReason: outcome.stoppedReason,
        StoppedAt: new Date(Date.now() + i),
        Containers: [{ Name: 'app', ExitCode: outcome.exitCode, Reason: outcome.containerReason }],
      });
    }
    deployment.RolloutState = 'FAILED';
    const previous = deployment.Previous as string | undefined;
    if (previous) {
      // the circuit breaker rolls back to the last completed deployment
      service.TaskDefinition = previous;
      service.Deployments = [{ Id: `ecs-svc/${this.id()}`, Status: 'PRIMARY', TaskDefinition: previous, RolloutState: 'COMPLETED', DesiredCount: service.DesiredCount, RunningCount: service.DesiredCount, CreatedAt: new Date() }];
      service.RunningCount = service.DesiredCount;
    } else {
      service.RunningCount = 0;
    }
    await this.onEvent(this.event(service, 'ECS Deployment State Change', 'SERVICE_DEPLOYMENT_FAILED', 'ERROR', deployment.Id,
      `ECS deployment circuit breaker: tasks failed to start.${previous ? ' Rolling back.' : ''}`));
  }

  private event(service: Obj, detailType: string, eventName: string, eventType: string, deploymentId?: string, reason?: string): EcsEvent {
    return {
      'detail-type': detailType,
      source: 'aws.ecs',
      resources: [service.ServiceArn],
      detail: { eventName, eventType, ...(deploymentId ? { deploymentId } : {}), ...(reason ? { reason } : {}) },
    };
  }

  // ---- CloudWatch (the per-environment alarms) ---------------------------------------------
  doPutMetricAlarm(p: Obj) {
    this.alarms.set(p.AlarmName, { ...p, AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${p.AlarmName}`, StateValue: 'INSUFFICIENT_DATA' });
    return {};
  }

  doDescribeAlarms(p: Obj) {
    const names = p.AlarmNames as string[] | undefined;
    return {
      MetricAlarms: [...this.alarms.values()].filter((a) => !names || names.includes(a.AlarmName)).map(({ Tags: _t, ...alarm }) => alarm),
      CompositeAlarms: [],
    };
  }

  /** as CloudWatch: the names that exist are deleted, a missing one is reported */
  doDeleteAlarms(p: Obj) {
    const missing = (p.AlarmNames as string[]).filter((name) => !this.alarms.has(name));
    for (const name of p.AlarmNames as string[]) this.alarms.delete(name);
    if (missing.length > 0) throw new FakeAwsError('ResourceNotFound', `${missing.join(', ')} not found`);
    return {};
  }

  // ---- ELBv2 ----------------------------------------------------------------------------
  doCreateTargetGroup(p: Obj) {
    const existing = [...this.targetGroups.values()].find((t) => t.TargetGroupName === p.Name);
    if (existing) return { TargetGroups: [existing] };
    const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${p.Name}/${this.id()}`;
    const tg = { ...p, TargetGroupArn: arn, TargetGroupName: p.Name, Attributes: {} as Record<string, string> };
    this.targetGroups.set(arn, tg);
    return { TargetGroups: [tg] };
  }

  doModifyTargetGroup(p: Obj) {
    const tg = this.targetGroups.get(p.TargetGroupArn);
    if (!tg) throw new FakeAwsError('TargetGroupNotFoundException', 'One or more target groups not found');
    const { TargetGroupArn: _arn, ...changes } = p;
    Object.assign(tg, changes);
    return { TargetGroups: [tg] };
  }

  doModifyTargetGroupAttributes(p: Obj) {
    const tg = this.targetGroups.get(p.TargetGroupArn);
    if (!tg) throw new FakeAwsError('TargetGroupNotFoundException', 'One or more target groups not found');
    for (const a of p.Attributes as { Key: string; Value: string }[]) tg.Attributes[a.Key] = a.Value;
    return { Attributes: p.Attributes };
  }

  doDeleteTargetGroup(p: Obj) {
    if (!this.targetGroups.has(p.TargetGroupArn)) throw new FakeAwsError('TargetGroupNotFoundException', 'One or more target groups not found');
    if ([...this.rules.values()].some((r) => r.Actions.some((a: Obj) => a.TargetGroupArn === p.TargetGroupArn))) {
      throw new FakeAwsError('ResourceInUseException', 'Target group is currently in use by a listener or a rule');
    }
    this.targetGroups.delete(p.TargetGroupArn);
    return {};
  }

  doDescribeTargetGroups(p: Obj) {
    const found = [...this.targetGroups.values()].filter((t) => (p.Names as string[] | undefined)?.includes(t.TargetGroupName));
    if (found.length === 0) throw new FakeAwsError('TargetGroupNotFoundException', 'One or more target groups not found');
    return { TargetGroups: found };
  }

  doDescribeTags(p: Obj) {
    return {
      TagDescriptions: (p.ResourceArns as string[]).map((arn) => ({
        ResourceArn: arn,
        Tags: (this.targetGroups.get(arn)?.Tags ?? this.rules.get(arn)?.Tags ?? []).map((t: Obj) => ({ Key: t.Key, Value: t.Value })),
      })),
    };
  }

  doCreateRule(p: Obj) {
    if ([...this.rules.values()].some((r) => r.Priority === String(p.Priority))) {
      throw new FakeAwsError('PriorityInUseException', `Priority '${p.Priority}' is currently in use`);
    }
    const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/fledge/abc/def/${this.id()}`;
    const rule = { RuleArn: arn, Priority: String(p.Priority), Conditions: p.Conditions, Actions: p.Actions, IsDefault: false, Tags: p.Tags };
    this.rules.set(arn, rule);
    return { Rules: [rule] };
  }

  doDeleteRule(p: Obj) {
    if (!this.rules.delete(p.RuleArn)) throw new FakeAwsError('RuleNotFoundException', 'One or more rules not found');
    return {};
  }

  doDescribeRules() {
    return { Rules: [...this.rules.values(), { RuleArn: `${this.listenerArn}/default`, Priority: 'default', IsDefault: true, Conditions: [], Actions: [] }] };
  }

  doModifyRule(p: Obj) {
    const rule = this.rules.get(p.RuleArn);
    if (!rule) throw new FakeAwsError('RuleNotFoundException', 'One or more rules not found');
    if (p.Actions) rule.Actions = p.Actions;
    return { Rules: [rule] };
  }

  doDescribeTaskDefinition(p: Obj) {
    // an ARN names one revision; a bare family its latest ACTIVE revision (as ECS does)
    const ref = p.TaskDefinition as string;
    const td = ref.startsWith('arn:')
      ? this.taskDefinitions.get(ref)
      : [...this.taskDefinitions.values()].filter((t) => t.Family === ref && t.Status === 'ACTIVE').sort((a, b) => b.Revision - a.Revision)[0];
    if (!td) throw new FakeAwsError('ClientException', 'Unable to describe task definition.');
    return { TaskDefinition: td };
  }

  // ---- Application Auto Scaling ----------------------------------------------------------
  doRegisterScalableTarget(p: Obj) {
    const name = String(p.ResourceId).split('/').pop()!;
    const service = this.services.get(name);
    if (!service || service.Status !== 'ACTIVE') throw new FakeAwsError('ValidationException', `ECS service doesn't exist: ${p.ResourceId}`);
    const existing = this.scalableTargets.get(p.ResourceId);
    const target: Obj = { ...existing, ...p, ScalableTargetARN: existing?.ScalableTargetARN ?? `arn:aws:application-autoscaling:${REGION}:${ACCOUNT}:scalable-target/${this.id()}` };
    this.scalableTargets.set(p.ResourceId, target);
    // a desired count outside min..max is moved into it
    service.DesiredCount = Math.min(Math.max(service.DesiredCount, target.MinCapacity), target.MaxCapacity);
    return { ScalableTargetARN: target.ScalableTargetARN };
  }

  doDeregisterScalableTarget(p: Obj) {
    if (!this.scalableTargets.delete(p.ResourceId)) {
      throw new FakeAwsError('ObjectNotFoundException', `No scalable target registered for service namespace: ecs, resource ID: ${p.ResourceId}`);
    }
    for (const key of [...this.scalingPolicies.keys()]) if (key.startsWith(`${p.ResourceId}|`)) this.scalingPolicies.delete(key);
    return {};
  }

  doPutScalingPolicy(p: Obj) {
    if (!this.scalableTargets.has(p.ResourceId)) throw new FakeAwsError('ObjectNotFoundException', `No scalable target registered for ${p.ResourceId}`);
    const arn = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:scalingPolicy:${this.id()}:resource/ecs/${p.ResourceId}:policyName/${p.PolicyName}`;
    this.scalingPolicies.set(`${p.ResourceId}|${p.PolicyName}`, { ...p, PolicyARN: arn });
    return { PolicyARN: arn, Alarms: [] };
  }
}
