/**
 * Simulated Amazon ECS on Fargate: task definitions, services with the replica scheduler,
 * rolling deployments with the deployment circuit breaker, tasks with a lifecycle, and the
 * EventBridge events ECS emits. Inputs and outputs are SDK v3 shapes (camelCase).
 */
import type { TimerHandle } from './clock.ts';
import { awsError, type SimulatedAwsError } from './errors.ts';
import { digits, ecsTagList, ENV_TAG, hex, tagsFromList, type SimContext } from './context.ts';
import { fargateSizeRefusal } from './fargate-task-sizes.ts';
import { crashSidecar, sidecarOutputs, sidecarsOf, startSidecar, stopSidecars, type SidecarContainer } from './sidecars.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ecsError = (code: string, message: string): SimulatedAwsError => awsError('ecs', code, message);

export interface TaskDefinitionRecord {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  body: Input;
  registeredAt: Date;
  deregisteredAt?: Date;
  tags: Map<string, string>;
}

export type FailureMode = 'pull' | 'start' | 'oom' | 'health' | undefined;

export interface TaskRecord {
  taskArn: string;
  id: string;
  serviceArn: string;
  serviceName: string;
  deploymentId: string;
  taskDefinitionArn: string;
  containerName: string;
  image: string;
  ip: string;
  lastStatus: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
  healthStatus: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  createdAt: Date;
  pullStartedAt?: Date;
  pullStoppedAt?: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  connectivityAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  exitCode?: number;
  containerReason?: string;
  /** passed its load-balancer health checks at least once (or has no load balancer) */
  everHealthy: boolean;
  /** the target groups it is registered with */
  registeredIn: { targetGroupArn: string; port: number }[];
  /** a check at the end of the health-check grace period is scheduled */
  graceCheck?: boolean;
  cpu: string;
  memory: string;
  version: number;
  tags: Map<string, string>;
  timers: TimerHandle[];
  /** where its container's output goes (awslogs: group and `<prefix>/<container>/<task id>`), when the definition says */
  log?: { group: string; stream: string };
  /** the container port (what the simulated app says it listens on) */
  port?: number;
  /** the task definition's other containers (infra/local/simulator/sidecars.ts) */
  sidecars?: SidecarContainer[];
  /** a task RunTask started (a hook): its group, startedBy and the app container's command override */
  run?: { group: string; startedBy?: string; command?: string[] };
}

export interface DeploymentRecord {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  createdAt: Date;
  updatedAt: Date;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** the breaker tripped and there was nothing to roll back to: launch nothing more */
  halted: boolean;
}

export interface ServiceRecord {
  arn: string;
  name: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  taskDefinition: string;
  loadBalancers: { targetGroupArn: string; containerName: string; containerPort: number }[];
  request: Input;
  deployments: DeploymentRecord[];
  events: { id: string; createdAt: Date; message: string }[];
  createdAt: Date;
  tags: Map<string, string>;
  steady: boolean;
  /** when the service last reached a steady state (ms, simulator clock) */
  steadyAt?: number;
  lastCompleted?: { deploymentId: string; taskDefinition: string };
  consecutiveFailures: number;
  impairedReported: boolean;
  nextLaunchAt: number;
  launchTimer?: TimerHandle;
  reconcileTimer?: TimerHandle;
  /** hostile mode: the timer that re-sends SERVICE_STEADY_STATE while the service stays steady */
  steadyTimer?: TimerHandle;
  /** when DeleteService (or the delete-service fault) set it DRAINING (ms, simulator clock) */
  drainingSince?: number;
  inactiveSince?: number;
}

/** What ECS needs from the load balancer. */
export interface LoadBalancerPort {
  targetGroupExists(arn: string): boolean;
  targetGroupAttached(arn: string): boolean;
  registerTarget(targetGroupArn: string, ip: string, port: number): void;
  deregisterTarget(targetGroupArn: string, ip: string, port: number): void;
  targetState(targetGroupArn: string, ip: string, port: number): string | undefined;
  /** the target group's HealthCheckIntervalSeconds (to scale the health-check grace period) */
  healthCheckIntervalSeconds(targetGroupArn: string): number | undefined;
}

/** Where containers write their output (the simulated CloudWatch Logs). */
export interface LogSink {
  write(groupName: string, streamName: string, lines: readonly string[]): void;
}

/** What faults ECS consults when a task starts or is probed. */
export interface FaultPort {
  failsAtStart(environment: string | undefined, image: string): boolean;
  failsHealthChecks(environment: string | undefined): boolean;
}

/**
 * What ECS's Describe* calls answer: what `describe` found, and for each reference it did not
 * find a failure with reason MISSING (under the ARN `missingArn` gives; default: the reference).
 */
function describeEach<T>(
  refs: readonly string[],
  describe: (ref: string) => T | undefined,
  missingArn: (ref: string) => string = (ref) => ref,
): { found: T[]; failures: { arn: string; reason: string }[] } {
  const found: T[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const described = describe(ref);
    if (described === undefined) failures.push({ arn: missingArn(ref), reason: 'MISSING' });
    else found.push(described);
  }
  return { found, failures };
}

/** The image tag (or digest-less reference) tells the simulator how a task will fail (infra/local/README.md). */
export function failureModeOf(image: string): FailureMode {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const tag = colon >= 0 ? withoutDigest.slice(colon + 1) : '';
  if (tag.startsWith('fail-pull')) return 'pull';
  if (tag.startsWith('fail-start')) return 'start';
  if (tag.startsWith('fail-oom')) return 'oom';
  if (tag.startsWith('fail-health')) return 'health';
  return undefined;
}

export class EcsSimulator {
  readonly clusterArn: string;
  readonly taskDefinitions = new Map<string, TaskDefinitionRecord>();
  // not readonly: readAt() swaps in a snapshot for hostile mode's stale reads
  services = new Map<string, ServiceRecord>();
  tasks = new Map<string, TaskRecord>();
  private readonly revisions = new Map<string, number>();
  private ipSeq = 10;
  lb!: LoadBalancerPort;
  faults!: FaultPort;
  logs?: LogSink;

  constructor(private readonly ctx: SimContext) {
    this.clusterArn = ctx.arn('ecs', `cluster/${ctx.config.clusterName}`);
  }

  // ---------------------------------------------------------------- stale reads (hostile mode)

  /** A copy of what the read calls look at (services and tasks), for hostile mode's stale reads. */
  snapshot(): { services: Map<string, ServiceRecord>; tasks: Map<string, TaskRecord> } {
    return structuredClone({ services: this.services, tasks: this.tasks });
  }

  /** Run a read call against a snapshot instead of the current state. */
  readAt<T>(view: { services: Map<string, ServiceRecord>; tasks: Map<string, TaskRecord> }, read: () => T): T {
    const current = { services: this.services, tasks: this.tasks };
    this.services = view.services;
    this.tasks = view.tasks;
    try {
      const result = read();
      if (result instanceof Promise) throw new Error('readAt: reads must be synchronous');
      return result;
    } finally {
      this.services = current.services;
      this.tasks = current.tasks;
    }
  }

  // ---------------------------------------------------------------- helpers

  private checkCluster(cluster: string | undefined): void {
    if (cluster === undefined || cluster === this.ctx.config.clusterName || cluster === this.clusterArn) return;
    throw ecsError('ClusterNotFoundException', 'Cluster not found.');
  }

  private serviceKey(nameOrArn: string): string {
    const match = /^arn:aws:ecs:[^:]+:\d+:service\/(?:[^/]+\/)?([^/]+)$/.exec(nameOrArn);
    return match ? match[1]! : nameOrArn;
  }

  private findService(nameOrArn: string): ServiceRecord | undefined {
    return this.services.get(this.serviceKey(nameOrArn));
  }

  private liveService(input: Input, field = 'service'): ServiceRecord {
    this.checkCluster(input.cluster);
    const service = this.findService(String(input[field]));
    if (!service || service.status === 'INACTIVE') throw ecsError('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  resolveTaskDefinition(ref: string): TaskDefinitionRecord | undefined {
    if (ref.startsWith('arn:')) return this.taskDefinitions.get(ref);
    const [family, revision] = ref.split(':');
    if (revision !== undefined) {
      return [...this.taskDefinitions.values()].find((td) => td.family === family && td.revision === Number(revision));
    }
    // family only: the latest ACTIVE revision
    return [...this.taskDefinitions.values()]
      .filter((td) => td.family === family && td.status === 'ACTIVE')
      .sort((a, b) => b.revision - a.revision)[0];
  }

  environmentOf(service: ServiceRecord): string {
    return service.tags.get(ENV_TAG) ?? service.name;
  }

  private serviceEvent(service: ServiceRecord, message: string): void {
    service.events.unshift({ id: crypto.randomUUID(), createdAt: new Date(this.ctx.clock.now()), message: `(service ${service.name}) ${message}` });
    service.events.length = Math.min(service.events.length, 100);
  }

  private primary(service: ServiceRecord): DeploymentRecord | undefined {
    return service.deployments.find((d) => d.status === 'PRIMARY');
  }

  private tasksOf(service: ServiceRecord, predicate: (task: TaskRecord) => boolean = () => true): TaskRecord[] {
    return [...this.tasks.values()].filter((task) => task.serviceArn === service.arn && predicate(task));
  }

  private isHealthy(service: ServiceRecord, task: TaskRecord): boolean {
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return false;
    if (service.loadBalancers.length === 0) return true;
    return task.registeredIn.length > 0 && task.registeredIn.every((r) => this.lb.targetState(r.targetGroupArn, task.ip, r.port) === 'healthy');
  }

  private counts(service: ServiceRecord, deploymentId?: string) {
    const tasks = this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && (!deploymentId || t.deploymentId === deploymentId));
    return {
      running: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pending: tasks.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus)).length,
    };
  }

  // ---------------------------------------------------------------- output shapes

  private serviceOutput(service: ServiceRecord): Input {
    const counts = this.counts(service);
    const req = service.request;
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: this.clusterArn,
      loadBalancers: service.loadBalancers,
      serviceRegistries: [],
      status: service.status,
      desiredCount: service.desiredCount,
      runningCount: counts.running,
      pendingCount: counts.pending,
      launchType: 'FARGATE',
      platformVersion: req.platformVersion ?? 'LATEST',
      platformFamily: 'Linux',
      taskDefinition: service.taskDefinition,
      deploymentConfiguration: req.deploymentConfiguration ?? {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      deployments: service.deployments.map((d) => {
        const c = this.counts(service, d.id);
        return {
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinition,
          desiredCount: d.desiredCount,
          pendingCount: c.pending,
          runningCount: c.running,
          failedTasks: d.failedTasks,
          createdAt: d.createdAt,
          updatedAt: d.updatedAt,
          launchType: 'FARGATE',
          platformVersion: '1.4.0',
          platformFamily: 'Linux',
          networkConfiguration: req.networkConfiguration,
          rolloutState: d.rolloutState,
          rolloutStateReason: d.rolloutStateReason,
        };
      }),
      roleArn: this.ctx.arn('ecs', '').replace(/^arn:aws:ecs:[^:]+:(\d+):$/, 'arn:aws:iam::$1:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS'),
      events: service.events.slice(0, 100),
      createdAt: service.createdAt,
      placementConstraints: [],
      placementStrategy: [],
      networkConfiguration: req.networkConfiguration,
      healthCheckGracePeriodSeconds: req.healthCheckGracePeriodSeconds,
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      tags: ecsTagList(service.tags),
      createdBy: 'arn:aws:iam::' + this.ctx.config.accountId + ':role/fledge-local',
      enableECSManagedTags: req.enableECSManagedTags ?? false,
      propagateTags: req.propagateTags ?? 'NONE',
      enableExecuteCommand: false,
      availabilityZoneRebalancing: 'ENABLED',
    };
  }

  private taskOutput(task: TaskRecord, includeTags: boolean): Input {
    return {
      attachments: [
        {
          id: task.id.slice(0, 8) + '-eni',
          type: 'ElasticNetworkInterface',
          status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
          details: [
            { name: 'subnetId', value: 'subnet-0local' },
            { name: 'networkInterfaceId', value: 'eni-' + task.id.slice(0, 17) },
            { name: 'privateIPv4Address', value: task.ip },
          ],
        },
      ],
      availabilityZone: `${this.ctx.config.region}a`,
      clusterArn: this.clusterArn,
      connectivity: task.connectivityAt ? 'CONNECTED' : undefined,
      connectivityAt: task.connectivityAt,
      containers: [
        {
          containerArn: this.ctx.arn('ecs', `container/${this.ctx.config.clusterName}/${task.id}/${task.id.slice(0, 8)}`),
          taskArn: task.taskArn,
          name: task.containerName,
          image: task.image,
          lastStatus: task.lastStatus === 'STOPPED' || task.lastStatus === 'DEPROVISIONING' ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING',
          exitCode: task.exitCode,
          reason: task.containerReason,
          networkInterfaces: [{ attachmentId: task.id.slice(0, 8) + '-eni', privateIpv4Address: task.ip }],
          healthStatus: task.healthStatus,
          cpu: '0',
        },
        ...this.sidecarContainers(task, { healthStatus: 'UNKNOWN' }),
      ],
      cpu: task.cpu,
      memory: task.memory,
      createdAt: task.createdAt,
      desiredStatus: task.desiredStatus,
      enableExecuteCommand: false,
      group: task.run?.group ?? `service:${task.serviceName}`,
      healthStatus: task.healthStatus,
      lastStatus: task.lastStatus,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      pullStartedAt: task.pullStartedAt,
      pullStoppedAt: task.pullStoppedAt,
      startedAt: task.startedAt,
      startedBy: task.run ? task.run.startedBy : task.deploymentId,
      stopCode: task.stopCode,
      stoppedAt: task.stoppedAt,
      stoppedReason: task.stoppedReason,
      stoppingAt: task.stoppingAt,
      taskArn: task.taskArn,
      taskDefinitionArn: task.taskDefinitionArn,
      version: task.version,
      ephemeralStorage: { sizeInGiB: 20 },
      overrides: { containerOverrides: [{ name: task.containerName, ...(task.run?.command ? { command: task.run.command } : {}) }], inferenceAcceleratorOverrides: [] },
      tags: includeTags ? ecsTagList(task.tags) : undefined,
    };
  }

  private taskDefinitionOutput(td: TaskDefinitionRecord): Input {
    const body = td.body;
    return {
      taskDefinitionArn: td.arn,
      containerDefinitions: body.containerDefinitions,
      family: td.family,
      taskRoleArn: body.taskRoleArn,
      executionRoleArn: body.executionRoleArn,
      networkMode: body.networkMode ?? 'bridge',
      revision: td.revision,
      volumes: body.volumes ?? [],
      status: td.status,
      requiresAttributes: [],
      placementConstraints: [],
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: body.requiresCompatibilities,
      cpu: body.cpu,
      memory: body.memory,
      runtimePlatform: body.runtimePlatform,
      registeredAt: td.registeredAt,
      deregisteredAt: td.deregisteredAt,
      registeredBy: 'arn:aws:iam::' + this.ctx.config.accountId + ':role/fledge-local',
    };
  }

  // ---------------------------------------------------------------- API

  readonly actions: Record<string, (input: Input) => Input | Promise<Input>> = {
    DescribeClusters: (input) => {
      const wanted: string[] = input.clusters ?? ['default'];
      const { found: clusters, failures } = describeEach(
        wanted,
        (c) => {
          if (c !== this.ctx.config.clusterName && c !== this.clusterArn) return undefined;
          const active = [...this.services.values()].filter((s) => s.status === 'ACTIVE');
          return {
            clusterArn: this.clusterArn,
            clusterName: this.ctx.config.clusterName,
            status: 'ACTIVE',
            runningTasksCount: [...this.tasks.values()].filter((t) => t.lastStatus === 'RUNNING').length,
            pendingTasksCount: [...this.tasks.values()].filter((t) => ['PROVISIONING', 'PENDING'].includes(t.lastStatus)).length,
            activeServicesCount: active.length,
            registeredContainerInstancesCount: 0,
            capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
          };
        },
        (c) => (c.startsWith('arn:') ? c : this.ctx.arn('ecs', `cluster/${c}`)),
      );
      return { clusters, failures };
    },
    ListClusters: () => ({ clusterArns: [this.clusterArn] }),

    RegisterTaskDefinition: (input) => {
      const family = String(input.family);
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
        throw ecsError('ClientException', 'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.');
      }
      const containers: Input[] = input.containerDefinitions;
      if (containers.length === 0) throw ecsError('ClientException', 'Container list cannot be empty.');
      for (const container of containers) {
        if (!container.name) throw ecsError('ClientException', 'Container.name should not be null or empty.');
        if (!container.image) throw ecsError('ClientException', 'Container.image should not be null or empty.');
      }
      refuseBadContainerSet(containers, input.memory);
      // "Task definition max size: 64 KiB" (Amazon ECS Developer Guide, "Amazon ECS service quotas"; the wording here is the
      // simulator's): functions/domain/task-definition-size.ts checks the same at the API
      const bytes = new TextEncoder().encode(JSON.stringify(input)).length;
      if (bytes > 65_536) throw ecsError('ClientException', `The task definition is ${bytes} bytes; the maximum size is 64 KiB.`);
      const fargate = (input.requiresCompatibilities ?? []).includes('FARGATE');
      if (fargate) {
        if (input.networkMode !== 'awsvpc') throw ecsError('ClientException', 'Fargate only supports network mode ‘awsvpc’.');
        if (!input.cpu || !input.memory) throw ecsError('ClientException', "Fargate requires that 'cpu' and 'memory' be defined at the task level.");
        const refusal = fargateSizeRefusal(String(input.cpu), String(input.memory));
        if (refusal) throw ecsError('ClientException', refusal);
        const usesSecretsOrLogs = containers.some((c) => (c.secrets ?? []).length > 0 || c.logConfiguration?.logDriver === 'awslogs');
        if (usesSecretsOrLogs && !input.executionRoleArn) {
          throw ecsError('ClientException', 'Fargate requires task definition to have execution role ARN to support log driver awslogs.');
        }
      }
      const revision = (this.revisions.get(family) ?? 0) + 1;
      this.revisions.set(family, revision);
      const arn = this.ctx.arn('ecs', `task-definition/${family}:${revision}`);
      const { tags, ...body } = input;
      const td: TaskDefinitionRecord = {
        arn,
        family,
        revision,
        status: 'ACTIVE',
        body,
        registeredAt: new Date(this.ctx.clock.now()),
        tags: tagsFromList(tags),
      };
      this.taskDefinitions.set(arn, td);
      return { taskDefinition: this.taskDefinitionOutput(td), tags: ecsTagList(td.tags) };
    },

    DescribeTaskDefinition: (input) => {
      const td = this.resolveTaskDefinition(String(input.taskDefinition));
      if (!td || td.status === 'DELETE_IN_PROGRESS') throw ecsError('ClientException', 'Unable to describe task definition.');
      return { taskDefinition: this.taskDefinitionOutput(td), tags: (input.include ?? []).includes('TAGS') ? ecsTagList(td.tags) : undefined };
    },

    DeregisterTaskDefinition: (input) => {
      const ref = String(input.taskDefinition);
      if (!ref.startsWith('arn:') && !ref.includes(':')) {
        throw ecsError('ClientException', 'Invalid revision number. Number: ' + ref);
      }
      const td = this.resolveTaskDefinition(ref);
      if (!td || td.status === 'DELETE_IN_PROGRESS') throw ecsError('ClientException', 'The specified task definition does not exist.');
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = new Date(this.ctx.clock.now());
      }
      return { taskDefinition: this.taskDefinitionOutput(td) };
    },

    DeleteTaskDefinitions: (input) => {
      // Amazon ECS API Reference, DeleteTaskDefinitions: "You can specify up to 10 task definitions";
      // only INACTIVE revisions, which move to DELETE_IN_PROGRESS and stay there until no task or service references them
      const refs = (input.taskDefinitions ?? []) as string[];
      if (refs.length === 0 || refs.length > 10) {
        throw ecsError('InvalidParameterException', 'taskDefinitions must name between 1 and 10 task definitions.');
      }
      const taskDefinitions = [];
      const failures = [];
      for (const ref of refs) {
        const td = this.resolveTaskDefinition(ref);
        if (!td) {
          failures.push({ arn: ref, reason: 'The specified task definition does not exist.' });
        } else if (td.status === 'ACTIVE') {
          failures.push({ arn: td.arn, reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' });
        } else {
          td.status = 'DELETE_IN_PROGRESS';
          taskDefinitions.push(this.taskDefinitionOutput(td));
          this.forgetWhenUnreferenced(td);
        }
      }
      return { taskDefinitions, failures };
    },

    ListTaskDefinitions: (input) => {
      const status = input.status ?? 'ACTIVE';
      let list = [...this.taskDefinitions.values()].filter((td) => td.status === status);
      if (input.familyPrefix) list = list.filter((td) => td.family.startsWith(input.familyPrefix));
      list.sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family.localeCompare(b.family)));
      if (input.sort === 'DESC') list.reverse();
      return this.paginate(list.map((td) => td.arn), input, 'taskDefinitionArns');
    },

    ListTaskDefinitionFamilies: (input) => {
      const families = new Set(
        [...this.taskDefinitions.values()]
          .filter((td) => (input.status ?? 'ACTIVE') === 'ALL' || td.status === (input.status ?? 'ACTIVE'))
          .filter((td) => !input.familyPrefix || td.family.startsWith(input.familyPrefix))
          .map((td) => td.family),
      );
      return this.paginate([...families].sort(), input, 'families');
    },

    CreateService: (input) => {
      this.checkCluster(input.cluster);
      const name = String(input.serviceName);
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
        throw ecsError('InvalidParameterException', 'Service name can have up to 255 characters: letters, numbers, hyphens and underscores.');
      }
      if (!input.taskDefinition) throw ecsError('InvalidParameterException', 'TaskDefinition can not be blank.');
      const td = this.resolveTaskDefinition(String(input.taskDefinition));
      // an INACTIVE (or DELETE_IN_PROGRESS) revision runs no new service (Amazon ECS API Reference, DeregisterTaskDefinition);
      // AWS answers CreateService/UpdateService with ClientException "TaskDefinition is inactive" (RunTask: InvalidParameterException)
      if (!td || td.status !== 'ACTIVE') {
        throw ecsError('ClientException', td ? 'TaskDefinition is inactive' : 'Unable to describe task definition.');
      }
      if (input.launchType && input.launchType !== 'FARGATE') {
        throw ecsError('InvalidParameterException', 'The simulated cluster only has Fargate capacity.');
      }
      if (!input.networkConfiguration?.awsvpcConfiguration) {
        throw ecsError('InvalidParameterException', 'Network Configuration must be provided when networkMode \'awsvpc\' is specified.');
      }
      if ((input.networkConfiguration.awsvpcConfiguration.subnets ?? []).length === 0) {
        throw ecsError('InvalidParameterException', 'subnets can not be empty.');
      }
      const desiredCount = input.desiredCount ?? (input.schedulingStrategy === 'DAEMON' ? 0 : undefined);
      if (desiredCount === undefined) throw ecsError('InvalidParameterException', 'desiredCount must be specified for services with the REPLICA scheduling strategy.');
      if (desiredCount < 0) throw ecsError('InvalidParameterException', 'desiredCount must not be negative.');
      const loadBalancers = (input.loadBalancers ?? []) as ServiceRecord['loadBalancers'];
      for (const lb of loadBalancers) this.checkLoadBalancer(lb, td);

      const existing = this.services.get(name);
      if (existing && existing.status === 'ACTIVE') {
        // "If you retry a request that completed successfully using the same client token and the
        // same parameters, the retry succeeds without performing any further actions" (Amazon ECS
        // API Reference, "Ensuring idempotency"); another token is another request for a name in use.
        // The parameters are the first request's: a scale since then does not make the retry another request.
        const first = existing.request;
        const same = first.taskDefinition === input.taskDefinition && first.desiredCount === input.desiredCount && first.clientToken === input.clientToken;
        if (same) return { service: this.serviceOutput(existing) };
        throw ecsError('InvalidParameterException', 'Creation of service was not idempotent.');
      }
      if (existing && existing.status === 'DRAINING') {
        throw ecsError('InvalidParameterException', 'Unable to Start a service that is still Draining.');
      }
      if (existing) this.forgetService(existing);

      const now = new Date(this.ctx.clock.now());
      const service: ServiceRecord = {
        arn: this.ctx.arn('ecs', `service/${this.ctx.config.clusterName}/${name}`),
        name,
        status: 'ACTIVE',
        desiredCount,
        taskDefinition: td.arn,
        loadBalancers,
        request: { ...input, tags: undefined },
        deployments: [],
        events: [],
        createdAt: now,
        tags: tagsFromList(input.tags),
        steady: false,
        consecutiveFailures: 0,
        impairedReported: false,
        nextLaunchAt: 0,
      };
      this.services.set(name, service);
      this.startDeployment(service, td.arn, undefined);
      return { service: this.serviceOutput(service) };
    },

    UpdateService: (input) => {
      const service = this.liveService(input);
      if (service.status !== 'ACTIVE') throw ecsError('ServiceNotActiveException', 'Service was not ACTIVE.');
      let taskDefinitionArn = service.taskDefinition;
      if (input.taskDefinition) {
        const td = this.resolveTaskDefinition(String(input.taskDefinition));
        if (!td || td.status !== 'ACTIVE') throw ecsError('ClientException', td ? 'TaskDefinition is inactive' : 'Unable to describe task definition.');
        taskDefinitionArn = td.arn;
        for (const lb of input.loadBalancers ?? service.loadBalancers) this.checkLoadBalancer(lb, td);
      }
      if (input.desiredCount !== undefined && input.desiredCount < 0) throw ecsError('InvalidParameterException', 'desiredCount must not be negative.');
      if (input.loadBalancers) service.loadBalancers = input.loadBalancers;
      for (const key of ['deploymentConfiguration', 'networkConfiguration', 'healthCheckGracePeriodSeconds', 'propagateTags', 'enableECSManagedTags', 'platformVersion']) {
        if (input[key] !== undefined) service.request[key] = input[key];
      }
      if (input.desiredCount !== undefined) {
        if (input.desiredCount !== service.desiredCount) service.steady = false;
        service.desiredCount = input.desiredCount;
        const primary = this.primary(service);
        if (primary) primary.desiredCount = input.desiredCount;
      }
      if (taskDefinitionArn !== service.taskDefinition || input.forceNewDeployment) {
        this.startDeployment(service, taskDefinitionArn, undefined);
      } else {
        service.consecutiveFailures = 0;
        service.nextLaunchAt = 0;
        const primary = this.primary(service);
        if (primary?.halted) primary.halted = false;
        this.scheduleReconcile(service);
      }
      return { service: this.serviceOutput(service) };
    },

    DeleteService: (input) => {
      this.checkCluster(input.cluster);
      const service = this.findService(String(input.service));
      if (!service || service.status === 'INACTIVE') throw ecsError('ServiceNotFoundException', 'Service not found.');
      if (service.status === 'ACTIVE') {
        if (service.desiredCount > 0 && !input.force) {
          throw ecsError('InvalidParameterException', 'The service cannot be stopped while it is scaled above 0.');
        }
        this.drain(service, 'Service is being deleted');
      }
      return { service: this.serviceOutput(service) };
    },

    DescribeServices: (input) => {
      this.checkCluster(input.cluster);
      const names = input.services as string[];
      if (names.length > 10) throw ecsError('InvalidParameterException', 'services can have at most 10 items.');
      const { found: services, failures } = describeEach(
        names,
        (ref) => {
          const service = this.findService(ref);
          return service && this.serviceOutput(service);
        },
        (ref) => (ref.startsWith('arn:') ? ref : this.ctx.arn('ecs', `service/${this.ctx.config.clusterName}/${ref}`)),
      );
      return { services, failures };
    },

    ListServices: (input) => {
      this.checkCluster(input.cluster);
      // DRAINING services are "no longer visible ... in the ListServices API operation" (DeleteService)
      const arns = [...this.services.values()].filter((s) => s.status === 'ACTIVE').map((s) => s.arn);
      return this.paginate(arns, input, 'serviceArns');
    },

    ListTasks: (input) => {
      this.checkCluster(input.cluster);
      let list = [...this.tasks.values()];
      if (input.serviceName) {
        const service = this.findService(String(input.serviceName));
        if (!service || service.status === 'INACTIVE') throw ecsError('ServiceNotFoundException', 'Service not found.');
        list = list.filter((t) => t.serviceArn === service.arn);
      }
      // the family is in the task's definition ARN, even once that revision has been deleted
      if (input.family) list = list.filter((t) => /task-definition\/([^:]+):\d+$/.exec(t.taskDefinitionArn)?.[1] === input.family);
      if (input.startedBy) list = list.filter((t) => (t.run ? t.run.startedBy : t.deploymentId) === input.startedBy);
      const desired = input.desiredStatus ?? 'RUNNING';
      list = list.filter((t) => t.desiredStatus === desired);
      return this.paginate(list.map((t) => t.taskArn), input, 'taskArns');
    },

    DescribeTasks: (input) => {
      this.checkCluster(input.cluster);
      const refs = input.tasks as string[];
      if (refs.length > 100) throw ecsError('InvalidParameterException', 'Tasks cannot be longer than 100.');
      const { found: tasks, failures } = describeEach(refs, (ref) => {
        const task = this.tasks.get(ref) ?? [...this.tasks.values()].find((t) => t.id === ref);
        return task && this.taskOutput(task, (input.include ?? []).includes('TAGS'));
      });
      return { tasks, failures };
    },

    RunTask: (input) => this.runTask(input),

    StopTask: (input) => {
      this.checkCluster(input.cluster);
      const ref = String(input.task);
      const task = this.tasks.get(ref) ?? [...this.tasks.values()].find((t) => t.id === ref);
      if (!task) throw ecsError('InvalidParameterException', 'The referenced task was not found.');
      if (task.desiredStatus === 'RUNNING') {
        // a hook's process gets SIGTERM and dies of it (128 + 15); a service's app shuts down cleanly
        this.stopTask(task, { reason: input.reason ?? 'Task stopped by user', stopCode: 'UserInitiated', exitCode: task.run ? 143 : 0, failure: false });
      }
      return { task: this.taskOutput(task, false) };
    },

    TagResource: (input) => {
      const tags = this.tagsFor(String(input.resourceArn));
      for (const [k, v] of tagsFromList(input.tags)) tags.set(k, v);
      return {};
    },
    UntagResource: (input) => {
      const tags = this.tagsFor(String(input.resourceArn));
      for (const key of input.tagKeys as string[]) tags.delete(key);
      return {};
    },
    ListTagsForResource: (input) => ({ tags: ecsTagList(this.tagsFor(String(input.resourceArn))) }),
  };

  private paginate(items: string[], input: Input, key: string): Input {
    const max = Math.min(Number(input.maxResults ?? 100), 100);
    const start = input.nextToken ? Number(Buffer.from(String(input.nextToken), 'base64').toString()) : 0;
    const page = items.slice(start, start + max);
    const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return { [key]: page, nextToken: next };
  }

  private tagsFor(arn: string): Map<string, string> {
    const service = [...this.services.values()].find((s) => s.arn === arn && s.status !== 'INACTIVE');
    if (service) return service.tags;
    const td = this.taskDefinitions.get(arn);
    if (td) return td.tags;
    const task = this.tasks.get(arn);
    if (task) return task.tags;
    if (arn === this.clusterArn) return new Map();
    throw ecsError('InvalidParameterException', 'The specified resource could not be found.');
  }

  private checkLoadBalancer(lb: { targetGroupArn?: string; containerName?: string; containerPort?: number }, td: TaskDefinitionRecord): void {
    if (!lb.targetGroupArn) throw ecsError('InvalidParameterException', 'targetGroupArn must be specified for Application Load Balancers.');
    if (!this.lb.targetGroupExists(lb.targetGroupArn)) {
      throw ecsError('InvalidParameterException', `Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions. (target group ${lb.targetGroupArn} not found)`);
    }
    if (!this.lb.targetGroupAttached(lb.targetGroupArn)) {
      throw ecsError('InvalidParameterException', `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`);
    }
    const container = (td.body.containerDefinitions as Input[]).find((c) => c.name === lb.containerName);
    if (!container) {
      throw ecsError('InvalidParameterException', `The container ${lb.containerName} does not exist in the task definition.`);
    }
    const ports = (container.portMappings ?? []).map((p: Input) => p.containerPort);
    if (!ports.includes(lb.containerPort)) {
      throw ecsError('InvalidParameterException', `The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`);
    }
  }

  // ---------------------------------------------------------------- scheduler

  private startDeployment(service: ServiceRecord, taskDefinition: string, rollbackFrom: DeploymentRecord | undefined): DeploymentRecord {
    const now = new Date(this.ctx.clock.now());
    for (const d of service.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    const deployment: DeploymentRecord = {
      id: `ecs-svc/${digits(19)}`,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: rollbackFrom
        ? `ECS deployment circuit breaker: rolling back to deploymentId ${service.lastCompleted?.deploymentId}.`
        : 'ECS deployment ecs-svc/pending in progress.',
      halted: false,
    };
    if (!rollbackFrom) deployment.rolloutStateReason = `ECS deployment ${deployment.id} in progress.`;
    service.deployments.unshift(deployment);
    service.taskDefinition = taskDefinition;
    service.steady = false;
    service.consecutiveFailures = 0;
    service.impairedReported = false;
    service.nextLaunchAt = 0;
    if (rollbackFrom) {
      // running tasks of the deployment we roll back to carry on under the rollback deployment
      for (const task of this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && t.taskDefinitionArn === taskDefinition)) {
        task.deploymentId = deployment.id;
      }
    }
    this.emitDeployment(service, 'SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO', deployment, deployment.rolloutStateReason);
    this.scheduleReconcile(service);
    return deployment;
  }

  /**
   * "ECS Deployment State Change": the detail has no clusterArn, the service ARN is in
   * `resources` (Amazon ECS Developer Guide, "Amazon ECS service deployment state change events").
   */
  private emitDeployment(service: ServiceRecord, eventName: string, eventType: string, deployment: DeploymentRecord, reason: string): void {
    this.ctx.emit('ECS Deployment State Change', 'aws.ecs', [service.arn], {
      eventType,
      eventName,
      deploymentId: deployment.id,
      updatedAt: this.ctx.isoNow(),
      reason,
    });
  }

  /**
   * "ECS Service Action": eventType, eventName, clusterArn, createdAt; SERVICE_STEADY_STATE and
   * SERVICE_TASK_START_IMPAIRED carry nothing more (Amazon ECS Developer Guide, "Amazon ECS
   * service action events", the examples).
   */
  private emitServiceAction(service: ServiceRecord, eventName: string, eventType: string): void {
    this.ctx.emit('ECS Service Action', 'aws.ecs', [service.arn], {
      eventType,
      eventName,
      clusterArn: this.clusterArn,
      createdAt: this.ctx.isoNow(),
    });
  }

  /**
   * "ECS Task State Change": the detail resembles the Task object, without health status
   * (Amazon ECS Developer Guide, "Amazon ECS task state change events", the Fargate example):
   * timestamps as ISO strings, `version` incremented on every change, the stopped fields once
   * the task is stopping.
   */
  private emitTask(task: TaskRecord): void {
    task.version += 1;
    const iso = (date: Date | undefined) => date?.toISOString();
    const stopped = task.lastStatus === 'STOPPED' || task.lastStatus === 'DEPROVISIONING';
    const containerStatus = stopped ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING';
    const detail: Record<string, unknown> = {
      attachments: [
        {
          id: `${task.id.slice(0, 8)}-eni`,
          type: 'eni',
          status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
          details: [
            { name: 'subnetId', value: 'subnet-0local' },
            { name: 'networkInterfaceId', value: `eni-${task.id.slice(0, 17)}` },
            { name: 'privateIPv4Address', value: task.ip },
          ],
        },
      ],
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      availabilityZone: `${this.ctx.config.region}a`,
      capacityProviderName: 'FARGATE',
      clusterArn: this.clusterArn,
      connectivity: task.connectivityAt ? 'CONNECTED' : undefined,
      connectivityAt: iso(task.connectivityAt),
      containers: [
        {
          containerArn: this.ctx.arn('ecs', `container/${this.ctx.config.clusterName}/${task.id}/${task.id.slice(0, 8)}`),
          lastStatus: containerStatus,
          name: task.containerName,
          image: task.image,
          taskArn: task.taskArn,
          networkInterfaces: [{ attachmentId: `${task.id.slice(0, 8)}-eni`, privateIpv4Address: task.ip }],
          exitCode: task.exitCode,
          reason: task.containerReason,
          cpu: '0',
        },
        ...this.sidecarContainers(task, {}),
      ],
      cpu: task.cpu,
      createdAt: iso(task.createdAt),
      desiredStatus: task.desiredStatus,
      enableExecuteCommand: false,
      ephemeralStorage: { sizeInGiB: 20 },
      executionStoppedAt: task.lastStatus === 'STOPPED' ? iso(task.stoppedAt) : undefined,
      group: task.run?.group ?? `service:${task.serviceName}`,
      launchType: 'FARGATE',
      lastStatus: task.lastStatus,
      memory: task.memory,
      overrides: { containerOverrides: [{ name: task.containerName }] },
      platformVersion: '1.4.0',
      pullStartedAt: iso(task.pullStartedAt),
      pullStoppedAt: iso(task.pullStoppedAt),
      startedAt: iso(task.startedAt),
      startedBy: task.run ? task.run.startedBy : task.deploymentId,
      stopCode: task.stopCode,
      stoppedAt: iso(task.stoppedAt),
      stoppedReason: task.stoppedReason,
      stoppingAt: iso(task.stoppingAt),
      taskArn: task.taskArn,
      taskDefinitionArn: task.taskDefinitionArn,
      updatedAt: this.ctx.isoNow(),
      version: task.version,
    };
    // absent, not null, like AWS's JSON
    this.ctx.emit('ECS Task State Change', 'aws.ecs', [task.taskArn], JSON.parse(JSON.stringify(detail)) as Record<string, unknown>);
  }

  /** Hostile mode: SERVICE_STEADY_STATE again and again while the service stays steady. */
  private scheduleSteadyHeartbeat(service: ServiceRecord): void {
    if (service.steadyTimer || !this.ctx.hostile.enabled) return;
    // "The service scheduler reports the status periodically, so you might receive this message
    // multiple times." (Amazon ECS Developer Guide, "Amazon ECS service action events")
    service.steadyTimer = this.ctx.clock.setTimer(this.ctx.hostile.rates.steadyStateEveryMs, () => {
      service.steadyTimer = undefined;
      if (this.ctx.stopped || !this.ctx.hostile.enabled || service.status !== 'ACTIVE' || !service.steady) return;
      if (this.services.get(service.name) !== service) return;
      this.emitServiceAction(service, 'SERVICE_STEADY_STATE', 'INFO');
      this.scheduleSteadyHeartbeat(service);
    });
  }

  /** Hostile mode switched on at run time: the services already steady start reporting it periodically. */
  startSteadyHeartbeats(): void {
    for (const service of this.services.values()) if (service.status === 'ACTIVE' && service.steady) this.scheduleSteadyHeartbeat(service);
  }

  scheduleReconcile(service: ServiceRecord, delayMs = 0): void {
    if (service.reconcileTimer) return;
    service.reconcileTimer = this.ctx.clock.setTimer(delayMs, () => {
      service.reconcileTimer = undefined;
      try {
        this.reconcile(service);
      } catch (error) {
        this.ctx.log.error('simulator: ECS scheduler failed', { service: service.name, error: String(error) });
      }
    });
  }

  private reconcile(service: ServiceRecord): void {
    if (this.ctx.stopped) return;
    if (service.status === 'DRAINING') {
      for (const task of this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING')) {
        this.stopTask(task, { reason: 'Service is being deleted', stopCode: 'ServiceSchedulerInitiated', exitCode: 0, failure: false });
      }
      // Amazon ECS API Reference, DeleteService: "the service status moves from ACTIVE to
      // DRAINING, and the service is no longer visible in the console or in the ListServices API
      // operation. After all tasks have transitioned to either STOPPING or STOPPED status, the
      // service status moves from DRAINING to INACTIVE ... If you attempt to create a new service
      // with the same name as an existing service in either ACTIVE or DRAINING status, you
      // receive an error." In practice DRAINING outlasts the tasks: here it lasts until they
      // stopped and at least `drainMs` (FLEDGE_SIM_DRAIN_MS).
      const drainEnds = (service.drainingSince ?? 0) + this.ctx.config.drainMs;
      const stillDraining = this.tasksOf(service, (t) => t.lastStatus !== 'STOPPED').length > 0;
      if (!stillDraining && this.ctx.clock.now() < drainEnds) {
        this.scheduleReconcile(service, drainEnds - this.ctx.clock.now());
      } else if (!stillDraining) {
        service.status = 'INACTIVE';
        service.inactiveSince = this.ctx.clock.now();
        for (const d of service.deployments) d.status = 'INACTIVE';
        service.deployments = [];
        this.serviceEvent(service, 'has been deleted.');
        this.ctx.clock.setTimer(this.ctx.config.inactiveServiceRetentionMs, () => {
          if (service.status === 'INACTIVE' && this.services.get(service.name) === service) this.forgetService(service);
        });
      }
      return;
    }
    if (service.status !== 'ACTIVE') return;
    const primary = this.primary(service);
    if (!primary) return;
    const now = this.ctx.clock.now();

    // 1. keep the primary deployment at its desired count
    const active = this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && t.deploymentId === primary.id);
    const missing = primary.desiredCount - active.length;
    if (missing > 0 && !primary.halted) {
      if (now >= service.nextLaunchAt) {
        for (let i = 0; i < missing; i++) this.launchTask(service, primary);
      } else if (!service.launchTimer) {
        service.launchTimer = this.ctx.clock.setTimer(service.nextLaunchAt - now, () => {
          service.launchTimer = undefined;
          this.scheduleReconcile(service);
        });
      }
    } else if (missing < 0) {
      const order = (t: TaskRecord) => (t.lastStatus === 'RUNNING' ? 1 : 0);
      const excess = active.sort((a, b) => order(a) - order(b) || b.createdAt.getTime() - a.createdAt.getTime()).slice(0, -missing);
      for (const task of excess) {
        this.stopTask(task, { reason: `Scaling activity initiated by (deployment ${primary.id})`, stopCode: 'ServiceSchedulerInitiated', exitCode: 0, failure: false });
      }
    }

    // 2. once the primary is healthy, retire the older deployments
    const healthy = active.filter((t) => this.isHealthy(service, t)).length;
    const primaryHealthy = healthy >= primary.desiredCount;
    if (primaryHealthy) {
      for (const old of service.deployments.filter((d) => d !== primary)) {
        for (const task of this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && t.deploymentId === old.id)) {
          this.stopTask(task, { reason: `Scaling activity initiated by (deployment ${primary.id})`, stopCode: 'ServiceSchedulerInitiated', exitCode: 0, failure: false });
        }
      }
    }
    service.deployments = service.deployments.filter(
      (d) => d === primary || this.tasksOf(service, (t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED').length > 0,
    );

    // 3. rollout completion and steady state
    const settled = service.deployments.length === 1 && primaryHealthy && active.length === primary.desiredCount;
    if (primary.rolloutState === 'IN_PROGRESS' && settled) {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = new Date(now);
      service.lastCompleted = { deploymentId: primary.id, taskDefinition: primary.taskDefinition };
      this.serviceEvent(service, `(deployment ${primary.id}) deployment completed.`);
      this.emitDeployment(service, 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO', primary, primary.rolloutStateReason);
    }
    const steady = settled && primary.rolloutState === 'COMPLETED' && this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING').length === 0;
    if (steady && !service.steady) {
      service.steady = true;
      service.steadyAt = now;
      this.serviceEvent(service, 'has reached a steady state.');
      this.emitServiceAction(service, 'SERVICE_STEADY_STATE', 'INFO');
      this.scheduleSteadyHeartbeat(service);
    } else if (!steady) {
      service.steady = false;
    }
  }

  /**
   * RunTask (Amazon ECS API Reference, RunTask): a one-off task of an ACTIVE revision, on Fargate
   * with an awsvpc network configuration, no service. Its `group` defaults to
   * `family:<family>`. The app container's command override decides what the simulated process
   * does (infra/local/README.md "Hooks"): a first word starting with `fail` exits 1, `sleep N`
   * exits 0 after N seconds of the simulator's clock, anything else exits 0 at once. The task
   * stops when that essential container exits (EssentialContainerExited).
   */
  private runTask(input: Input): Input {
    this.checkCluster(input.cluster);
    if (!input.taskDefinition) throw ecsError('InvalidParameterException', 'TaskDefinition can not be blank.');
    const td = this.resolveTaskDefinition(String(input.taskDefinition));
    if (!td) throw ecsError('ClientException', 'Unable to describe task definition.');
    // an INACTIVE revision runs no new task: RunTask answers InvalidParameterException (CreateService: ClientException)
    if (td.status !== 'ACTIVE') throw ecsError('InvalidParameterException', 'TaskDefinition is inactive');
    if (input.launchType && input.launchType !== 'FARGATE') throw ecsError('InvalidParameterException', 'The simulated cluster only has Fargate capacity.');
    if (!input.networkConfiguration?.awsvpcConfiguration) {
      throw ecsError('InvalidParameterException', 'Network Configuration must be provided when networkMode \'awsvpc\' is specified.');
    }
    if ((input.networkConfiguration.awsvpcConfiguration.subnets ?? []).length === 0) throw ecsError('InvalidParameterException', 'subnets can not be empty.');
    if ((input.count ?? 1) !== 1) throw ecsError('InvalidParameterException', 'The simulator runs one task per RunTask call.');
    if (input.startedBy !== undefined && String(input.startedBy).length > 128) throw ecsError('InvalidParameterException', 'startedBy must be at most 128 characters.');
    const containers = td.body.containerDefinitions as Input[];
    const overrides = (input.overrides?.containerOverrides ?? []) as Input[];
    for (const override of overrides) {
      if (!containers.some((c) => c.name === override.name)) {
        throw ecsError('InvalidParameterException', `Override for container named ${override.name} is not a container in the TaskDefinition.`);
      }
    }
    const container = containers.find((c) => c.essential !== false) ?? containers[0]!;
    const command = overrides.find((o) => o.name === container.name)?.command as string[] | undefined;
    const task = this.newTask(td, container, {
      serviceArn: '',
      serviceName: '',
      deploymentId: '',
      everHealthy: true,
      tags: input.propagateTags === 'TASK_DEFINITION' ? new Map([...td.tags, ...tagsFromList(input.tags)]) : tagsFromList(input.tags),
      run: { group: String(input.group ?? `family:${td.family}`), startedBy: input.startedBy, command },
    });
    this.emitTask(task);
    this.startRunTask(task);
    return { tasks: [this.taskOutput(task, false)], failures: [] };
  }

  /** A new PROVISIONING task of `td` running `container`, kept in the cluster; `owner` says whose it is. */
  private newTask(
    td: TaskDefinitionRecord,
    container: Input,
    owner: Pick<TaskRecord, 'serviceArn' | 'serviceName' | 'deploymentId' | 'everHealthy' | 'tags' | 'run'>,
  ): TaskRecord {
    const id = hex(16);
    const n = this.ipSeq++;
    const task: TaskRecord = {
      taskArn: this.ctx.arn('ecs', `task/${this.ctx.config.clusterName}/${id}`),
      id,
      ...owner,
      taskDefinitionArn: td.arn,
      containerName: String(container.name),
      image: String(container.image),
      ip: `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      createdAt: new Date(this.ctx.clock.now()),
      registeredIn: [],
      cpu: String(td.body.cpu ?? '256'),
      memory: String(td.body.memory ?? '512'),
      version: 0,
      timers: [],
      log: awslogsStream(container, id),
      port: (container.portMappings as Input[] | undefined)?.[0]?.containerPort as number | undefined,
      sidecars: sidecarsOf(td.body.containerDefinitions as Input[], container, {
        logOf: (sidecar) => awslogsStream(sidecar, id),
        failsAtStart: (image) => failureModeOf(image) === 'start',
      }),
    };
    this.tasks.set(task.taskArn, task);
    return task;
  }

  /**
   * A task's way to RUNNING: PENDING (pulling), then `started` once it runs; an image tagged
   * `fail-pull` never starts (TaskFailedToStart; `countsAsFailure` for a service's circuit breaker).
   */
  private provision(task: TaskRecord, countsAsFailure: boolean, started: () => void): void {
    const start = this.ctx.config.taskStartMs;
    this.at(task, Math.round(start * 0.25), () => {
      task.lastStatus = 'PENDING';
      task.pullStartedAt = new Date(this.ctx.clock.now());
      this.emitTask(task);
    });
    if (failureModeOf(task.image) === 'pull') {
      // the container never starts, so it writes nothing: on AWS a pull failure shows only in the
      // task's stoppedReason (what the operation's error reports), never in the container's log
      this.at(task, Math.round(start * 0.6), () => {
        const message = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${normalizeImageRef(task.image)}: not found`;
        this.stopTask(task, { reason: message, containerReason: message, stopCode: 'TaskFailedToStart', failure: countsAsFailure });
      });
      return;
    }
    this.at(task, start, () => {
      task.pullStoppedAt = new Date(this.ctx.clock.now());
      task.startedAt = new Date(this.ctx.clock.now());
      task.connectivityAt = task.startedAt;
      task.lastStatus = 'RUNNING';
      started();
    });
  }

  private startRunTask(task: TaskRecord): void {
    const start = this.ctx.config.taskStartMs;
    const mode = failureModeOf(task.image);
    this.provision(task, false, () => {
      // a hook task runs the task definition's sidecars too (what it runs against starts first)
      this.startSidecars(task, Math.max(1, Math.round(start * 0.2)));
      this.emitTask(task);
      const command = task.run?.command ?? [];
      this.writeLog(task, `starting ${task.image} (simulated container ${task.containerName}, task ${task.id})`, `running: ${command.join(' ') || '(the image\'s own command)'}`);
      const exit = (exitCode: number, ...lines: string[]) => {
        this.writeLog(task, ...lines);
        // failure: the process exited on its own (no SIGTERM line); a run task has no service to count it against
        this.stopTask(task, { reason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode, failure: true });
      };
      const [first = '', second] = command;
      const seconds = Number(second);
      if (mode === 'start' || first.startsWith('fail')) {
        this.at(task, Math.max(1, Math.round(start * 0.2)), () => exit(1, 'Error: the command failed (simulated)', 'exiting with code 1'));
      } else if (first === 'sleep' && Number.isFinite(seconds) && seconds >= 0) {
        this.at(task, Math.round(seconds * 1000), () => exit(0, `slept ${seconds} s`, 'exiting with code 0'));
      } else {
        this.at(task, Math.max(1, Math.round(start * 0.2)), () => exit(0, 'done', 'exiting with code 0'));
      }
    });
  }

  private launchTask(service: ServiceRecord, deployment: DeploymentRecord): void {
    const td = this.taskDefinitions.get(deployment.taskDefinition);
    if (!td) return;
    const container = (td.body.containerDefinitions as Input[]).find((c) => c.essential !== false) ?? (td.body.containerDefinitions as Input[])[0]!;
    const task = this.newTask(td, container, {
      serviceArn: service.arn,
      serviceName: service.name,
      deploymentId: deployment.id,
      everHealthy: false,
      tags: service.request.propagateTags === 'SERVICE' ? new Map(service.tags) : service.request.propagateTags === 'TASK_DEFINITION' ? new Map(td.tags) : new Map(),
    });
    const id = task.id;
    this.serviceEvent(service, `has started 1 tasks: (task ${id}).`);
    this.emitTask(task);
    const start = this.ctx.config.taskStartMs;
    // a failing container dies before the load balancer could ever call it healthy
    const hc = this.ctx.config.healthCheckIntervalMs;
    const env = this.environmentOf(service);
    const mode = failureModeOf(task.image);
    this.provision(task, true, () => {
      // the app depends on its sidecars' START (functions/domain/resource-plan.ts): they are up first
      this.startSidecars(task, Math.max(1, Math.round(Math.min(start * 0.2, hc / 2))));
      if (service.loadBalancers.length === 0) task.everHealthy = true;
      let unregistered: { targetGroupArn: string; error: string } | undefined;
      for (const lb of service.loadBalancers) {
        if (this.lb.targetGroupExists(lb.targetGroupArn)) {
          try {
            this.lb.registerTarget(lb.targetGroupArn, task.ip, lb.containerPort);
            task.registeredIn.push({ targetGroupArn: lb.targetGroupArn, port: lb.containerPort });
          } catch (error) {
            // the load balancer is at its targets quota (TooManyTargets)
            unregistered ??= { targetGroupArn: lb.targetGroupArn, error: (error as Error).message };
          }
        }
      }
      if (unregistered) this.failRegistration(service, task, unregistered);
      this.emitTask(task);
      this.scheduleReconcile(service);
      const crashes = mode === 'start' || this.faults.failsAtStart(env, task.image);
      this.writeLog(task, `starting ${task.image} (simulated container ${task.containerName}, task ${task.id})`, 'loading configuration from the environment');
      if (!crashes && mode !== 'oom') this.writeLog(task, `listening on 0.0.0.0:${task.port ?? 80}`);
      if (mode === 'health') this.writeLog(task, 'warning: a dependency is unavailable; the health check answers 503');
      if (crashes) {
        this.at(task, Math.max(1, Math.round(Math.min(start * 0.2, hc / 2))), () => {
          this.writeLog(task, 'Error: cannot connect to the database at db:5432: connection refused', 'fatal: startup failed, exiting with code 1');
          this.stopTask(task, { reason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 1, failure: true });
        });
      } else if (mode === 'oom') {
        this.writeLog(task, 'allocating the cache');
        this.at(task, Math.max(1, Math.round(Math.min(start * 0.3, hc))), () =>
          this.stopTask(task, {
            reason: 'Essential container in task exited',
            containerReason: 'OutOfMemoryError: Container killed due to memory usage',
            stopCode: 'EssentialContainerExited',
            exitCode: 137,
            failure: true,
          }),
        );
      }
    });
  }

  /**
   * A task ECS could not register with its target group (the load balancer refused the target:
   * TooManyTargets, past "Targets per Application Load Balancer"). ECS reports failures in service
   * events (Amazon ECS Developer Guide, "Amazon ECS service event messages"; the wording here is
   * the simulator's), but how it then treats the task is not documented. Modelled: the load
   * balancer never routes to it, so it never passes a health
   * check; one health-check interval later the scheduler stops it as failed (it counts for the
   * circuit breaker, so the deployment fails and rolls back, or a first deployment ends FAILED).
   */
  private failRegistration(service: ServiceRecord, task: TaskRecord, unregistered: { targetGroupArn: string; error: string }): void {
    this.serviceEvent(service, `failed to register targets in (target-group ${unregistered.targetGroupArn}) with (error ${unregistered.error})`);
    this.at(task, this.ctx.config.healthCheckIntervalMs, () =>
      this.stopTask(task, {
        reason: `Task failed to register targets in (target-group ${unregistered.targetGroupArn}): ${unregistered.error}`,
        stopCode: 'ServiceSchedulerInitiated',
        exitCode: 143,
        failure: true,
      }),
    );
  }

  /** The task's sidecars start; a `fail-start` one exits after `exitAfterMs`, and an essential one takes the task down with it. */
  private startSidecars(task: TaskRecord, exitAfterMs: number): void {
    for (const sidecar of task.sidecars ?? []) {
      this.writeSidecarLog(sidecar, startSidecar(sidecar));
      if (!sidecar.failsAtStart) continue;
      this.at(task, exitAfterMs, () => {
        this.writeSidecarLog(sidecar, crashSidecar(sidecar));
        // the app handles the SIGTERM ECS sends the other containers and exits 0: the sidecar is the one that failed
        if (sidecar.essential) this.stopTask(task, { reason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 0, failure: true });
        else this.emitTask(task);
      });
    }
  }

  private writeSidecarLog(sidecar: SidecarContainer, lines: string[]): void {
    if (sidecar.log && this.logs) this.logs.write(sidecar.log.group, sidecar.log.stream, lines);
  }

  /** The `containers` entries of a task's sidecars (DescribeTasks, task events). */
  private sidecarContainers(task: TaskRecord, extra: Input): Input[] {
    const base = { ...extra, taskArn: task.taskArn, networkInterfaces: [{ attachmentId: task.id.slice(0, 8) + '-eni', privateIpv4Address: task.ip }], cpu: '0' };
    return sidecarOutputs(task.sidecars ?? [], (name) => this.ctx.arn('ecs', `container/${this.ctx.config.clusterName}/${task.id}/${task.id.slice(0, 8)}-${name}`), base);
  }

  /** Lines the task's container writes to its awslogs stream (nothing without a log configuration). */
  writeLog(task: TaskRecord, ...lines: string[]): void {
    if (task.log && this.logs) this.logs.write(task.log.group, task.log.stream, lines);
  }

  private at(task: TaskRecord, delayMs: number, fn: () => void): void {
    const handle = this.ctx.clock.setTimer(delayMs, () => {
      task.timers = task.timers.filter((t) => t !== handle);
      if (task.desiredStatus !== 'RUNNING' || this.ctx.stopped) return;
      fn();
    });
    task.timers.push(handle);
  }

  /** Stop a task; `failure` counts it against the deployment (circuit breaker) and the launch backoff. */
  stopTask(
    task: TaskRecord,
    how: { reason: string; stopCode: string; exitCode?: number; containerReason?: string; failure: boolean },
  ): void {
    if (task.desiredStatus === 'STOPPED') return;
    for (const timer of task.timers) this.ctx.clock.clearTimer(timer);
    task.timers = [];
    const wasRunning = task.lastStatus === 'RUNNING';
    // the scheduler stops a container with SIGTERM; one that exits on its own said why already
    if (wasRunning && !how.failure) this.writeLog(task, 'received SIGTERM, shutting down');
    task.desiredStatus = 'STOPPED';
    stopSidecars(task.sidecars ?? []);
    task.stoppedReason = how.reason;
    task.stopCode = how.stopCode;
    task.containerReason = how.containerReason;
    task.stoppingAt = new Date(this.ctx.clock.now());
    if (wasRunning) task.exitCode = how.exitCode ?? 0;
    task.lastStatus = task.registeredIn.length > 0 ? 'DEACTIVATING' : wasRunning ? 'STOPPING' : 'DEPROVISIONING';
    for (const r of task.registeredIn) this.lb.deregisterTarget(r.targetGroupArn, task.ip, r.port);
    this.emitTask(task);
    const service = [...this.services.values()].find((s) => s.arn === task.serviceArn);
    if (service) {
      service.steady = false;
      this.serviceEvent(service, `has stopped 1 running tasks: (task ${task.id}).`);
      if (how.failure) this.recordFailure(service, task);
      this.scheduleReconcile(service);
    }
    this.ctx.clock.setTimer(this.ctx.config.taskStopMs, () => {
      task.lastStatus = 'STOPPED';
      task.stoppedAt = new Date(this.ctx.clock.now());
      task.registeredIn = [];
      this.emitTask(task);
      if (service) this.scheduleReconcile(service);
      this.ctx.clock.setTimer(this.ctx.config.stoppedTaskRetentionMs, () => this.tasks.delete(task.taskArn));
    });
    this.pruneStoppedTasks(task.serviceArn);
  }

  /** Keep at most 100 stopped tasks per service (the rest age out after the retention time). */
  private pruneStoppedTasks(serviceArn: string): void {
    const stopped = [...this.tasks.values()].filter((t) => t.serviceArn === serviceArn && t.lastStatus === 'STOPPED');
    if (stopped.length <= 100) return;
    stopped.sort((a, b) => (a.stoppedAt?.getTime() ?? 0) - (b.stoppedAt?.getTime() ?? 0));
    for (const task of stopped.slice(0, stopped.length - 100)) this.tasks.delete(task.taskArn);
  }

  private recordFailure(service: ServiceRecord, task: TaskRecord): void {
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    service.consecutiveFailures += 1;
    // ECS backs off launching after repeated failures (capped here at 30 s)
    if (service.consecutiveFailures >= 3) {
      const backoff = Math.min(this.ctx.config.taskStartMs * 2 ** (service.consecutiveFailures - 3), 30_000);
      service.nextLaunchAt = this.ctx.clock.now() + backoff;
    }
    if (deployment && deployment.status === 'PRIMARY' && deployment.rolloutState === 'IN_PROGRESS' && !task.everHealthy) {
      deployment.failedTasks += 1;
      deployment.updatedAt = new Date(this.ctx.clock.now());
      const breaker = (service.request.deploymentConfiguration?.deploymentCircuitBreaker ?? {}) as { enable?: boolean; rollback?: boolean };
      const threshold = Math.min(Math.max(3, Math.ceil(deployment.desiredCount * 0.5)), 200);
      if (breaker.enable && deployment.failedTasks >= threshold) {
        this.tripCircuitBreaker(service, deployment, Boolean(breaker.rollback));
        return;
      }
    }
    if (service.consecutiveFailures >= 3 && !service.impairedReported) {
      service.impairedReported = true;
      this.serviceEvent(service, 'is unable to consistently start tasks successfully.');
      this.emitServiceAction(service, 'SERVICE_TASK_START_IMPAIRED', 'WARN');
    }
  }

  private tripCircuitBreaker(service: ServiceRecord, failed: DeploymentRecord, rollback: boolean): void {
    failed.rolloutState = 'FAILED';
    failed.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    failed.updatedAt = new Date(this.ctx.clock.now());
    this.serviceEvent(service, `(deployment ${failed.id}) deployment failed: tasks failed to start.`);
    this.emitDeployment(service, 'SERVICE_DEPLOYMENT_FAILED', 'ERROR', failed, failed.rolloutStateReason);
    const target = service.lastCompleted;
    if (rollback && target && target.taskDefinition !== failed.taskDefinition && this.taskDefinitions.has(target.taskDefinition)) {
      for (const task of this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && t.deploymentId === failed.id)) {
        this.stopTask(task, { reason: `Scaling activity initiated by (deployment ${failed.id})`, stopCode: 'ServiceSchedulerInitiated', exitCode: 0, failure: false });
      }
      this.serviceEvent(service, `(deployment ${failed.id}) rolling back to deployment ${target.deploymentId}.`);
      this.startDeployment(service, target.taskDefinition, failed);
    } else {
      failed.halted = true;
    }
  }

  /** The load balancer's verdict on a target (called by the ELB health checker). */
  onTargetHealth(targetGroupArn: string, ip: string, state: 'healthy' | 'unhealthy'): void {
    const task = [...this.tasks.values()].find((t) => t.ip === ip && t.desiredStatus === 'RUNNING');
    if (!task) return;
    const service = [...this.services.values()].find((s) => s.arn === task.serviceArn);
    if (state === 'unhealthy' && service && this.inGracePeriod(service, task, targetGroupArn)) return;
    if (state === 'healthy') {
      task.everHealthy = true;
      if (service) {
        service.consecutiveFailures = 0;
        service.impairedReported = false;
        service.nextLaunchAt = 0;
        this.scheduleReconcile(service);
      }
      return;
    }
    this.stopTask(task, {
      reason: `Task failed ELB health checks in (target-group ${targetGroupArn})`,
      stopCode: 'ServiceSchedulerInitiated',
      exitCode: 137,
      failure: true,
    });
  }

  /**
   * healthCheckGracePeriodSeconds: "the period of time, in seconds, that the Amazon ECS service
   * scheduler ignores unhealthy Elastic Load Balancing target health checks after a task has
   * first started" (Amazon ECS Developer Guide, "Service definition parameters"). Scaled like
   * the health checks: grace_ms = grace_s / HealthCheckIntervalSeconds * healthCheckIntervalMs.
   * An unhealthy verdict inside the grace period is ignored; if the target is still unhealthy
   * when it ends, the task is replaced then.
   */
  graceMs(service: ServiceRecord, targetGroupArn: string): number {
    const graceSeconds = Number(service.request.healthCheckGracePeriodSeconds ?? 0);
    if (!(graceSeconds > 0)) return 0;
    const intervalSeconds = this.lb.healthCheckIntervalSeconds(targetGroupArn) ?? 30;
    return Math.round((graceSeconds / intervalSeconds) * this.ctx.config.healthCheckIntervalMs);
  }

  private inGracePeriod(service: ServiceRecord, task: TaskRecord, targetGroupArn: string): boolean {
    const graceMs = this.graceMs(service, targetGroupArn);
    const startedAt = task.startedAt?.getTime() ?? this.ctx.clock.now();
    const remaining = startedAt + graceMs - this.ctx.clock.now();
    if (remaining <= 0) return false;
    if (!task.graceCheck) {
      task.graceCheck = true;
      this.at(task, remaining, () => {
        // a timer may fire a moment early: a check still inside the grace schedules the next one
        task.graceCheck = false;
        const unhealthy = task.registeredIn.find((r) => this.lb.targetState(r.targetGroupArn, task.ip, r.port) === 'unhealthy');
        if (unhealthy) this.onTargetHealth(unhealthy.targetGroupArn, task.ip, 'unhealthy');
      });
    }
    this.ctx.log.debug('simulator: unhealthy target ignored (health-check grace period)', { task: task.id, remainingMs: remaining });
    return true;
  }

  /** Does the container answer the load balancer's health check? */
  probe(ip: string): boolean {
    const task = [...this.tasks.values()].find((t) => t.ip === ip && t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
    if (!task) return false;
    if (failureModeOf(task.image) === 'health') return false;
    const service = [...this.services.values()].find((s) => s.arn === task.serviceArn);
    return !this.faults.failsHealthChecks(service ? this.environmentOf(service) : undefined);
  }

  private drain(service: ServiceRecord, _reason: string): void {
    service.status = 'DRAINING';
    service.drainingSince = this.ctx.clock.now();
    this.ctx.clock.clearTimer(service.steadyTimer);
    service.steadyTimer = undefined;
    service.desiredCount = 0;
    service.steady = false;
    this.ctx.clock.clearTimer(service.launchTimer);
    service.launchTimer = undefined;
    this.scheduleReconcile(service);
  }

  /** A DELETE_IN_PROGRESS revision goes once no running task and no service (any deployment) references it; until then it is looked at again. */
  private forgetWhenUnreferenced(td: TaskDefinitionRecord): void {
    this.ctx.clock.setTimer(this.ctx.config.taskStopMs, () => {
      const byTask = [...this.tasks.values()].some((t) => t.taskDefinitionArn === td.arn && t.lastStatus !== 'STOPPED');
      const byService = [...this.services.values()].some(
        (s) => s.status !== 'INACTIVE' && (s.taskDefinition === td.arn || s.deployments.some((d) => d.status !== 'INACTIVE' && d.taskDefinition === td.arn)),
      );
      if (byTask || byService) this.forgetWhenUnreferenced(td);
      else this.taskDefinitions.delete(td.arn);
    });
  }

  private forgetService(service: ServiceRecord): void {
    this.services.delete(service.name);
    for (const task of this.tasksOf(service)) if (task.lastStatus === 'STOPPED') this.tasks.delete(task.taskArn);
  }

  // ---------------------------------------------------------------- faults

  serviceOfEnvironment(environment: string): ServiceRecord | undefined {
    const live = [...this.services.values()].filter((s) => s.status !== 'INACTIVE');
    return live.find((s) => s.tags.get(ENV_TAG) === environment) ?? live.find((s) => s.name === environment);
  }

  /** The running tasks of a service exit on their own (crash / crashloop faults). */
  crashTasks(service: ServiceRecord, image?: string): number {
    const victims = this.tasksOf(service, (t) => t.desiredStatus === 'RUNNING' && (!image || t.image === image));
    for (const task of victims) {
      if (task.lastStatus === 'RUNNING') this.writeLog(task, 'Error: unhandled exception (simulated crash)', 'exiting with code 1');
      this.stopTask(task, { reason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 1, failure: true });
    }
    return victims.length;
  }

  currentImage(service: ServiceRecord): string | undefined {
    const td = this.taskDefinitions.get(service.taskDefinition);
    const containers = (td?.body.containerDefinitions ?? []) as Input[];
    return (containers.find((c) => c.essential !== false) ?? containers[0])?.image as string | undefined;
  }

  /** delete-service fault: the service disappears out of band (as a forced delete would do). */
  deleteOutOfBand(service: ServiceRecord): void {
    this.drain(service, 'Service deleted out of band');
  }

  /** drift-scale fault: someone changed the desired count behind Fledge's back. */
  driftDesiredCount(service: ServiceRecord, count: number): void {
    if (count !== service.desiredCount) service.steady = false;
    service.desiredCount = count;
    const primary = this.primary(service);
    if (primary) primary.desiredCount = count;
    this.serviceEvent(service, `desired count changed out of band to ${count}.`);
    this.scheduleReconcile(service);
  }

  stopAll(): void {
    for (const service of this.services.values()) {
      this.ctx.clock.clearTimer(service.launchTimer);
      this.ctx.clock.clearTimer(service.reconcileTimer);
      this.ctx.clock.clearTimer(service.steadyTimer);
    }
    for (const task of this.tasks.values()) for (const timer of task.timers) this.ctx.clock.clearTimer(timer);
  }
}

/**
 * What RegisterTaskDefinition refuses about a task's containers together (the wording is the
 * simulator's): two containers of one name; a dependency on a container the definition lacks
 * ("containerName: The name of a container", ContainerDependency, Amazon ECS API Reference); and
 * reservations past the task's memory: "The resource limits must be greater than or equal to any
 * reservations that you declared" (Amazon ECS Developer Guide, "Choosing Fargate task sizes").
 */
function refuseBadContainerSet(containers: readonly Input[], taskMemory: unknown): void {
  const names = new Set<string>();
  for (const container of containers) {
    if (names.has(String(container.name))) throw ecsError('ClientException', `Container names must be unique within a task definition: ${String(container.name)}.`);
    names.add(String(container.name));
  }
  for (const container of containers) {
    for (const dependency of (container.dependsOn ?? []) as Input[]) {
      if (!names.has(String(dependency.containerName))) {
        throw ecsError('ClientException', `Container ${String(container.name)} depends on container ${String(dependency.containerName)}, which is not in the task definition.`);
      }
    }
  }
  const reserved = containers.reduce((sum, container) => sum + Number(container.memoryReservation ?? container.memory ?? 0), 0);
  if (taskMemory !== undefined && reserved > Number(taskMemory)) {
    throw ecsError('ClientException', `The containers reserve ${reserved} MiB of memory, more than the task's ${String(taskMemory)} MiB.`);
  }
}

/** `nginx:fail-pull` -> `docker.io/library/nginx:fail-pull`, as the container agent reports it. */
function normalizeImageRef(image: string): string {
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return image;
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
}

/**
 * The stream the awslogs driver writes a container's output to: `<prefix>/<container>/<task id>`
 * (Amazon ECS Developer Guide, "Using the awslogs log driver", awslogs-stream-prefix; required on
 * Fargate). Undefined when the container has no awslogs configuration.
 */
function awslogsStream(container: Input, taskId: string): { group: string; stream: string } | undefined {
  const config = container.logConfiguration as { logDriver?: string; options?: Record<string, string> } | undefined;
  const group = config?.options?.['awslogs-group'];
  const prefix = config?.options?.['awslogs-stream-prefix'];
  if (config?.logDriver !== 'awslogs' || !group || !prefix) return undefined;
  return { group, stream: `${prefix}/${String(container.name)}/${taskId}` };
}
