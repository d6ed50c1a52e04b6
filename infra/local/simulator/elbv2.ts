/**
 * Simulated Elastic Load Balancing v2: a pool of Application Load Balancers (the shards,
 * made with the simulator), each with one listener and its own rules; target groups of type
 * `ip`/`lambda` (regional: a rule attaches one to its load balancer, and to that one only),
 * listener rules with host-header conditions, target registration and health checks. Inputs
 * and outputs are SDK v3 shapes (PascalCase).
 *
 * The quotas are AWS's ("Quotas for your Application Load Balancers", Elastic Load Balancing
 * User Guide): 50 Application Load Balancers per Region, 100 target groups per load balancer
 * (not adjustable), 1 load balancer per target group, 100 rules per load balancer besides the
 * default rules, 3,000 target groups per Region; the errors are those the ELBv2 API Reference
 * names for CreateLoadBalancer, CreateTargetGroup, CreateRule and ModifyRule.
 */
import { awsError, type SimulatedAwsError } from './errors.ts';
import { digits, ENV_TAG, hex, pascalTagList, tagsFromList, type SimContext } from './context.ts';
import type { LoadBalancerPort } from './ecs.ts';
import { type Periodic, runEvery } from './periodic.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const elbError = (code: string, message: string): SimulatedAwsError => awsError('elasticloadbalancingv2', code, message);

export interface TargetRecord {
  id: string;
  port: number;
  state: 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused';
  reason?: string;
  description?: string;
  passes: number;
  fails: number;
  registeredAt: number;
}

export interface TargetGroupRecord {
  arn: string;
  name: string;
  settings: Input;
  attributes: Map<string, string>;
  targets: Map<string, TargetRecord>;
  tags: Map<string, string>;
  createdAt: number;
  /** when each target last turned unhealthy (ms): CloudWatch's UnHealthyHostCount is a period's maximum */
  unhealthyAt?: Map<string, number>;
}

export interface RuleRecord {
  arn: string;
  priority: number | 'default';
  conditions: Input[];
  actions: Input[];
  tags: Map<string, string>;
}

/** One Application Load Balancer of the pool with its one listener (HTTP:80 locally). */
export interface LoadBalancerRecord {
  arn: string;
  name: string;
  /** `app/<name>/<id>`: the `LoadBalancer` dimension of its CloudWatch metrics */
  dimension: string;
  listenerArn: string;
  /** what an alias record names (Route 53), with the zone id below */
  dnsName: string;
  canonicalHostedZoneId: string;
  /** the listener's rules, its default rule included */
  rules: Map<string, RuleRecord>;
  tags: Map<string, string>;
  listenerTags: Map<string, string>;
}

/**
 * The Route 53 hosted zone ID of Application Load Balancers in a Region: one per Region, the
 * same for every ALB there ("Elastic Load Balancing endpoints and quotas", AWS General Reference).
 */
const ALB_HOSTED_ZONE_IDS: Record<string, string> = {
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-2': 'Z1H1FL5HABSF5',
};

/** Called when a target's health verdict changes (ECS replaces unhealthy tasks). */
export type TargetHealthListener = (targetGroupArn: string, ip: string, state: 'healthy' | 'unhealthy') => void;
/** Does the thing behind this IP answer its health check? */
export type Prober = (ip: string, port: number, path: string) => boolean;

const TG_DEFAULTS = {
  HealthCheckProtocol: 'HTTP',
  HealthCheckPort: 'traffic-port',
  HealthCheckEnabled: true,
  HealthCheckPath: '/',
  HealthCheckIntervalSeconds: 30,
  HealthCheckTimeoutSeconds: 5,
  HealthyThresholdCount: 5,
  UnhealthyThresholdCount: 2,
  Matcher: { HttpCode: '200' },
  TargetType: 'instance',
  IpAddressType: 'ipv4',
  ProtocolVersion: 'HTTP1',
};

export class ElbSimulator implements LoadBalancerPort {
  /** the pool, in creation order (shard s1 first) */
  readonly loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly targetGroups = new Map<string, TargetGroupRecord>();
  private readonly healthChecks: Periodic;
  /** target group ARN -> the load balancer whose rules forward to it; rebuilt after a rule changes */
  private attachments?: Map<string, LoadBalancerRecord>;
  onTargetHealth: TargetHealthListener = () => {};
  probe: Prober = () => false;

  constructor(private readonly ctx: SimContext) {
    this.healthChecks = runEvery(ctx, ctx.config.healthCheckIntervalMs, 'health checks', () => this.runHealthChecks());
  }

  /**
   * CreateLoadBalancer + CreateListener as the stack does them (the simulator makes its pool at
   * start; Fledge never calls CreateLoadBalancer): AWS refuses a 51st ALB in a Region
   * (TooManyLoadBalancers) and a name already taken (DuplicateLoadBalancerName).
   */
  createLoadBalancer(name: string): LoadBalancerRecord {
    if ([...this.loadBalancers.values()].some((lb) => lb.name === name)) throw elbError('DuplicateLoadBalancerName', `A load balancer with the name '${name}' already exists`);
    if (this.loadBalancers.size >= this.ctx.config.maxLoadBalancersPerRegion) {
      throw elbError('TooManyLoadBalancers', "You've reached the limit on the number of load balancers for your AWS account.");
    }
    const id = hex(8);
    const listenerArn = this.ctx.arn('elasticloadbalancing', `listener/app/${name}/${id}/${hex(8)}`);
    const defaultRule = `${listenerArn.replace(':listener/', ':listener-rule/')}/${hex(8)}`;
    const lb: LoadBalancerRecord = {
      arn: this.ctx.arn('elasticloadbalancing', `loadbalancer/app/${name}/${id}`),
      name,
      dimension: `app/${name}/${id}`,
      listenerArn,
      dnsName: `${name}-${digits(10)}.${this.ctx.config.region}.elb.amazonaws.com`,
      canonicalHostedZoneId: ALB_HOSTED_ZONE_IDS[this.ctx.config.region] ?? ALB_HOSTED_ZONE_IDS['eu-west-1']!,
      rules: new Map([
        [
          defaultRule,
          {
            arn: defaultRule,
            priority: 'default',
            conditions: [],
            actions: [{ Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'No environment here' } }],
            tags: new Map(),
          },
        ],
      ]),
      tags: new Map(),
      listenerTags: new Map(),
    };
    this.loadBalancers.set(lb.arn, lb);
    return lb;
  }

  /** The first load balancer of the pool (shard s1): the one ALB of a one-shard installation. */
  get first(): LoadBalancerRecord {
    const lb = this.loadBalancers.values().next().value;
    if (!lb) throw new Error('the simulated pool has no load balancer');
    return lb;
  }

  get loadBalancerArn(): string {
    return this.first.arn;
  }

  get listenerArn(): string {
    return this.first.listenerArn;
  }

  /** The load balancer whose DNS name this is (an alias record's target), if any. */
  loadBalancerByDnsName(dnsName: string): LoadBalancerRecord | undefined {
    const wanted = dnsName.toLowerCase().replace(/\.$/, '').replace(/^dualstack\./, '');
    return [...this.loadBalancers.values()].find((lb) => lb.dnsName.toLowerCase() === wanted);
  }

  /** The load balancer whose rules forward to this target group (a target group serves one load balancer at most). */
  loadBalancerOf(targetGroupArn: string): LoadBalancerRecord | undefined {
    if (!this.attachments) {
      this.attachments = new Map();
      for (const lb of this.loadBalancers.values()) for (const rule of lb.rules.values()) for (const arn of forwardTargets(rule.actions)) this.attachments.set(arn, lb);
    }
    return this.attachments.get(targetGroupArn);
  }

  /** Every rule of the pool with its load balancer. */
  *allRules(): Generator<{ lb: LoadBalancerRecord; rule: RuleRecord }> {
    for (const lb of this.loadBalancers.values()) for (const rule of lb.rules.values()) yield { lb, rule };
  }

  // ---------------------------------------------------------------- LoadBalancerPort (for ECS)

  targetGroupExists(arn: string): boolean {
    return this.targetGroups.has(arn);
  }

  targetGroupAttached(arn: string): boolean {
    return this.loadBalancerOf(arn) !== undefined;
  }

  /**
   * Registers a target. Refused with TooManyTargets ("You've reached the limit on the number of
   * targets": Elastic Load Balancing API Reference, RegisterTargets) when the target group's load
   * balancer already has its quota of targets across its target groups: "Targets per Application
   * Load Balancer", 1,000 by default, adjustable ("Quotas for your Application Load Balancers",
   * Elastic Load Balancing User Guide); `FLEDGE_SIM_MAX_TARGETS`. A target being drained still
   * counts (it is registered until deregistration completes). Registering a registered target again
   * only refreshes it.
   */
  registerTarget(targetGroupArn: string, id: string, port: number): void {
    const tg = this.targetGroups.get(targetGroupArn);
    if (!tg) return;
    const lb = this.loadBalancerOf(targetGroupArn);
    if (lb && !tg.targets.has(`${id}:${port}`) && this.targetsOf(lb) >= this.ctx.config.maxTargetsPerLoadBalancer) {
      throw elbError('TooManyTargets', "You've reached the limit on the number of targets.");
    }
    const attached = lb !== undefined;
    tg.targets.set(`${id}:${port}`, {
      id,
      port,
      state: attached ? 'initial' : 'unused',
      reason: attached ? 'Elb.RegistrationInProgress' : 'Target.NotInUse',
      description: attached ? 'Target registration is in progress' : 'Target group is not configured to receive traffic from the load balancer',
      passes: 0,
      fails: 0,
      registeredAt: this.ctx.clock.now(),
    });
  }

  /** The targets registered in the target groups the load balancer's rules use (what its targets quota counts). */
  targetsOf(lb: LoadBalancerRecord): number {
    const used = new Set<string>();
    for (const rule of lb.rules.values()) for (const arn of forwardTargets(rule.actions)) used.add(arn);
    let count = 0;
    for (const arn of used) count += this.targetGroups.get(arn)?.targets.size ?? 0;
    return count;
  }

  deregisterTarget(targetGroupArn: string, id: string, port: number): void {
    const tg = this.targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(`${id}:${port}`);
    if (!tg || !target) return;
    target.state = 'draining';
    target.reason = 'Target.DeregistrationInProgress';
    target.description = 'Target deregistration is in progress';
    this.ctx.clock.setTimer(this.ctx.config.taskStopMs, () => {
      if (tg.targets.get(`${id}:${port}`) === target) tg.targets.delete(`${id}:${port}`);
    });
  }

  targetState(targetGroupArn: string, id: string, port: number): string | undefined {
    return this.targetGroups.get(targetGroupArn)?.targets.get(`${id}:${port}`)?.state;
  }

  healthCheckIntervalSeconds(targetGroupArn: string): number | undefined {
    const value = this.targetGroups.get(targetGroupArn)?.settings.HealthCheckIntervalSeconds;
    return value === undefined ? undefined : Number(value);
  }

  // ---------------------------------------------------------------- stale reads (hostile mode)

  private targetsView?: Map<string, Map<string, TargetRecord>>;

  /** A copy of every target group's targets (DescribeTargetHealth), for hostile mode's stale reads. */
  snapshot(): Map<string, Map<string, TargetRecord>> {
    return new Map([...this.targetGroups].map(([arn, tg]) => [arn, structuredClone(tg.targets)]));
  }

  readAt<T>(view: Map<string, Map<string, TargetRecord>>, read: () => T): T {
    this.targetsView = view;
    try {
      return read();
    } finally {
      this.targetsView = undefined;
    }
  }

  // ---------------------------------------------------------------- health checks

  runHealthChecks(): void {
    for (const tg of this.targetGroups.values()) {
      const attached = this.targetGroupAttached(tg.arn);
      const s = tg.settings;
      for (const target of tg.targets.values()) {
        if (target.state === 'draining') continue;
        if (!attached) {
          Object.assign(target, { state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' });
          continue;
        }
        if (target.state === 'unused') Object.assign(target, { state: 'initial', reason: 'Elb.RegistrationInProgress', passes: 0, fails: 0 });
        // the first check comes one interval after registration
        if (this.ctx.clock.now() - target.registeredAt < this.ctx.config.healthCheckIntervalMs) continue;
        const ok = s.HealthCheckEnabled === false || this.probe(target.id, target.port, String(s.HealthCheckPath ?? '/'));
        if (ok) {
          target.passes += 1;
          target.fails = 0;
          if (target.state !== 'healthy' && target.passes >= Number(s.HealthyThresholdCount)) {
            Object.assign(target, { state: 'healthy', reason: undefined, description: undefined });
            this.onTargetHealth(tg.arn, target.id, 'healthy');
          }
        } else {
          target.fails += 1;
          target.passes = 0;
          if (target.state !== 'unhealthy' && target.fails >= Number(s.UnhealthyThresholdCount)) {
            Object.assign(target, { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
            (tg.unhealthyAt ??= new Map()).set(target.id, this.ctx.clock.now());
            this.onTargetHealth(tg.arn, target.id, 'unhealthy');
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- output shapes

  private targetGroupOutput(tg: TargetGroupRecord): Input {
    const lb = this.loadBalancerOf(tg.arn);
    const lbs = lb ? [lb.arn] : [];
    return { TargetGroupArn: tg.arn, TargetGroupName: tg.name, ...tg.settings, LoadBalancerArns: lbs };
  }

  private ruleOutput(rule: RuleRecord): Input {
    return {
      RuleArn: rule.arn,
      Priority: String(rule.priority),
      Conditions: rule.conditions,
      Actions: rule.actions,
      IsDefault: rule.priority === 'default',
    };
  }

  private loadBalancerOutput(lb: LoadBalancerRecord): Input {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: lb.canonicalHostedZoneId,
      CreatedTime: new Date(0),
      LoadBalancerName: lb.name,
      Scheme: 'internet-facing',
      VpcId: this.ctx.config.vpcId,
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: [],
      SecurityGroups: ['sg-0local'],
      IpAddressType: 'ipv4',
    };
  }

  // ---------------------------------------------------------------- API

  readonly actions: Record<string, (input: Input) => Input> = {
    DescribeLoadBalancers: (input) => {
      const arns = input.LoadBalancerArns as string[] | undefined;
      const names = input.Names as string[] | undefined;
      if (arns && names) throw elbError('ValidationError', 'Load balancer names and load balancer ARNs cannot be specified at the same time');
      let list = [...this.loadBalancers.values()];
      if (arns) {
        if (arns.some((arn) => !this.loadBalancers.has(arn))) throw elbError('LoadBalancerNotFound', 'One or more load balancers not found');
        list = list.filter((lb) => arns.includes(lb.arn));
      }
      if (names) {
        if (names.some((name) => !list.some((lb) => lb.name === name))) throw elbError('LoadBalancerNotFound', 'One or more load balancers not found');
        list = list.filter((lb) => names.includes(lb.name));
      }
      return this.paginate(list.map((lb) => this.loadBalancerOutput(lb)), input, 'LoadBalancers');
    },

    DescribeListeners: (input) => {
      const arns = input.ListenerArns as string[] | undefined;
      if (input.LoadBalancerArn && arns) throw elbError('ValidationError', 'Listener ARNs and a load balancer ARN cannot be specified at the same time');
      if (!input.LoadBalancerArn && !arns) throw elbError('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
      let list: LoadBalancerRecord[];
      if (input.LoadBalancerArn) {
        const lb = this.loadBalancers.get(String(input.LoadBalancerArn));
        if (!lb) throw elbError('LoadBalancerNotFound', 'One or more load balancers not found');
        list = [lb];
      } else {
        list = arns!.map((arn) => this.requireListener(arn));
      }
      return this.paginate(
        list.map((lb) => ({ ListenerArn: lb.listenerArn, LoadBalancerArn: lb.arn, Port: 80, Protocol: 'HTTP', DefaultActions: this.defaultRule(lb).actions })),
        input,
        'Listeners',
      );
    },

    CreateTargetGroup: (input) => {
      const name = String(input.Name);
      validateTargetGroupName(name);
      const targetType = input.TargetType ?? 'instance';
      if (!['instance', 'ip', 'lambda', 'alb'].includes(targetType)) {
        throw elbError('ValidationError', `1 validation error detected: Value '${targetType}' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [instance, alb, ip, lambda]`);
      }
      if (targetType !== 'lambda') {
        if (!input.Protocol) throw elbError('ValidationError', 'A protocol must be specified');
        if (input.Port === undefined) throw elbError('ValidationError', 'A port must be specified');
        if (input.Port < 1 || input.Port > 65535) throw elbError('ValidationError', 'Port must be between 1 and 65535');
        if (!input.VpcId) throw elbError('ValidationError', 'A VPC ID must be specified');
        if (input.VpcId !== this.ctx.config.vpcId) throw elbError('ValidationError', `The VPC ID '${input.VpcId}' is not found`);
      }
      const interval = input.HealthCheckIntervalSeconds ?? (targetType === 'lambda' ? 35 : 30);
      const timeout = input.HealthCheckTimeoutSeconds ?? (targetType === 'lambda' ? 30 : 5);
      if (interval < 5 || interval > 300) throw elbError('ValidationError', 'Health check interval must be between 5 and 300 seconds');
      if (timeout < 2 || timeout > 120) throw elbError('ValidationError', 'Health check timeout must be between 2 and 120 seconds');
      if (timeout >= interval) throw elbError('ValidationError', 'Health check interval must be greater than the timeout.');
      for (const key of ['HealthyThresholdCount', 'UnhealthyThresholdCount'] as const) {
        if (input[key] !== undefined && (input[key] < 2 || input[key] > 10)) throw elbError('ValidationError', `${key} must be between 2 and 10`);
      }
      const { Name: _name, Tags: tags, ...rest } = input;
      const settings: Input = { ...TG_DEFAULTS, ...rest, TargetType: targetType, HealthCheckIntervalSeconds: interval, HealthCheckTimeoutSeconds: timeout };
      if (targetType === 'lambda') {
        delete settings.Protocol;
        delete settings.Port;
        delete settings.VpcId;
        settings.HealthCheckEnabled = input.HealthCheckEnabled ?? false;
      }
      const existing = [...this.targetGroups.values()].find((tg) => tg.name === name);
      if (existing) {
        if (JSON.stringify(existing.settings) === JSON.stringify(settings)) return { TargetGroups: [this.targetGroupOutput(existing)] };
        throw elbError('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
      }
      // the regional quota (3000 by default) is checked here; the 100 target groups per load
      // balancer and the one load balancer per target group when a rule would use them
      // (checkTargetGroups) (Elastic Load Balancing, "Quotas for your Application Load Balancers";
      // ELBv2 API Reference, CreateTargetGroup and CreateRule errors)
      if (this.targetGroups.size >= this.ctx.config.maxTargetGroupsPerRegion) {
        throw elbError('TooManyTargetGroups', "You've reached the limit on the number of target groups for your AWS account.");
      }
      const arn = this.ctx.arn('elasticloadbalancing', `targetgroup/${name}/${hex(8)}`);
      const tg: TargetGroupRecord = { arn, name, settings, attributes: defaultAttributes(targetType), targets: new Map(), tags: tagsFromList(tags), createdAt: this.ctx.clock.now() };
      this.targetGroups.set(arn, tg);
      return { TargetGroups: [this.targetGroupOutput(tg)] };
    },

    DescribeTargetGroups: (input) => {
      let list = [...this.targetGroups.values()];
      if (input.TargetGroupArns) {
        const arns = input.TargetGroupArns as string[];
        if (arns.some((arn) => !this.targetGroups.has(arn))) throw elbError('TargetGroupNotFound', 'One or more target groups not found');
        list = list.filter((tg) => arns.includes(tg.arn));
      }
      if (input.Names) {
        const names = input.Names as string[];
        if (names.some((name) => !list.some((tg) => tg.name === name))) throw elbError('TargetGroupNotFound', 'One or more target groups not found');
        list = list.filter((tg) => names.includes(tg.name));
      }
      if (input.LoadBalancerArn) {
        const lb = this.loadBalancers.get(String(input.LoadBalancerArn));
        if (!lb) throw elbError('LoadBalancerNotFound', 'One or more load balancers not found');
        list = list.filter((tg) => this.loadBalancerOf(tg.arn) === lb);
      }
      return this.paginate(list.map((tg) => this.targetGroupOutput(tg)), input, 'TargetGroups');
    },

    ModifyTargetGroup: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      const { TargetGroupArn: _arn, ...changes } = input;
      Object.assign(tg.settings, changes);
      return { TargetGroups: [this.targetGroupOutput(tg)] };
    },

    DescribeTargetGroupAttributes: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      return { Attributes: [...tg.attributes].map(([Key, Value]) => ({ Key, Value })) };
    },

    ModifyTargetGroupAttributes: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      for (const { Key, Value } of input.Attributes as { Key?: string; Value?: string }[]) {
        if (!Key || !tg.attributes.has(Key)) throw elbError('ValidationError', `Target group attribute key '${Key}' is not recognized`);
        if (Key === 'deregistration_delay.timeout_seconds' && !(Number(Value) >= 0 && Number(Value) <= 3600 && /^\d+$/.test(String(Value)))) {
          throw elbError('ValidationError', `'${Value}' must be an integer between 0 and 3600`);
        }
        tg.attributes.set(Key, String(Value ?? ''));
      }
      return { Attributes: [...tg.attributes].map(([Key, Value]) => ({ Key, Value })) };
    },

    DeleteTargetGroup: (input) => {
      const arn = String(input.TargetGroupArn);
      if (!/^arn:aws:elasticloadbalancing:[^:]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/.test(arn)) {
        throw elbError('ValidationError', `'${arn}' is not a valid target group ARN`);
      }
      if (!this.targetGroups.has(arn)) return {}; // deleting a target group that is gone succeeds
      if (this.targetGroupAttached(arn)) throw elbError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
      this.targetGroups.delete(arn);
      return {};
    },

    RegisterTargets: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      // the whole call is refused past the load balancer's targets quota (registerTarget), nothing of it registered
      const lb = this.loadBalancerOf(tg.arn);
      const added = new Set((input.Targets as Input[]).map((t) => `${t.Id}:${t.Port ?? tg.settings.Port}`).filter((key) => !tg.targets.has(key)));
      if (lb && added.size > 0 && this.targetsOf(lb) + added.size > this.ctx.config.maxTargetsPerLoadBalancer) {
        throw elbError('TooManyTargets', "You've reached the limit on the number of targets.");
      }
      for (const target of input.Targets as Input[]) {
        const port = target.Port ?? tg.settings.Port;
        this.registerTarget(tg.arn, String(target.Id), Number(port));
      }
      return {};
    },

    DeregisterTargets: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      for (const target of input.Targets as Input[]) {
        const port = target.Port ?? tg.settings.Port;
        if (!tg.targets.has(`${target.Id}:${port}`)) {
          throw elbError('InvalidTarget', `The following targets are not registered in target group '${tg.arn}': '${target.Id}'`);
        }
        this.deregisterTarget(tg.arn, String(target.Id), Number(port));
      }
      return {};
    },

    DescribeTargetHealth: (input) => {
      const tg = this.requireTargetGroup(String(input.TargetGroupArn));
      const targets = this.targetsView?.get(tg.arn) ?? tg.targets;
      return {
        TargetHealthDescriptions: [...targets.values()].map((t) => ({
          Target: { Id: t.id, Port: t.port, AvailabilityZone: `${this.ctx.config.region}a` },
          HealthCheckPort: String(t.port),
          TargetHealth: { State: t.state, Reason: t.reason, Description: t.description },
        })),
      };
    },

    CreateRule: (input) => {
      const lb = this.requireListener(String(input.ListenerArn));
      const priority = Number(input.Priority);
      if (!Number.isInteger(priority) || priority < 1 || priority > 50000) throw elbError('ValidationError', 'Priority must be between 1 and 50000');
      const conditions = validateConditions(input.Conditions as Input[]);
      const actions = this.validateActions(input.Actions as Input[]);
      if ([...lb.rules.values()].some((rule) => rule.priority === priority)) throw elbError('PriorityInUse', `Priority '${priority}' is currently in use`);
      // 100 rules per Application Load Balancer, default rules excluded (quota, adjustable)
      if (lb.rules.size - 1 >= this.ctx.config.maxRules) throw elbError('TooManyRules', "You've reached the limit on the number of rules per load balancer.");
      this.checkTargetGroups(lb, actions, undefined);
      const arn = `${lb.listenerArn.replace(':listener/', ':listener-rule/')}/${hex(8)}`;
      const rule: RuleRecord = { arn, priority, conditions, actions, tags: tagsFromList(input.Tags) };
      lb.rules.set(arn, rule);
      this.attachments = undefined;
      return { Rules: [this.ruleOutput(rule)] };
    },

    ModifyRule: (input) => {
      const { lb, rule } = this.requireRule(String(input.RuleArn));
      if (input.Conditions) {
        if (rule.priority === 'default') throw elbError('OperationNotPermitted', 'Conditions cannot be set on a default rule');
        rule.conditions = validateConditions(input.Conditions as Input[]);
      }
      if (input.Actions) {
        const actions = this.validateActions(input.Actions as Input[]);
        this.checkTargetGroups(lb, actions, rule);
        rule.actions = actions;
        this.attachments = undefined;
      }
      return { Rules: [this.ruleOutput(rule)] };
    },

    SetRulePriorities: (input) => {
      const changes = (input.RulePriorities as Input[]).map((rp) => ({ ...this.requireRule(String(rp.RuleArn)), priority: Number(rp.Priority) }));
      for (const { lb, rule, priority } of changes) {
        if (rule.priority === 'default') throw elbError('OperationNotPermitted', 'Default rule priority cannot be modified');
        // priorities are unique per listener
        const other = [...lb.rules.values()].find((r) => r.priority === priority && !changes.some((c) => c.rule === r));
        if (other) throw elbError('PriorityInUse', `Priority '${priority}' is currently in use`);
      }
      for (const { rule, priority } of changes) rule.priority = priority;
      return { Rules: changes.map(({ rule }) => this.ruleOutput(rule)) };
    },

    DeleteRule: (input) => {
      const { lb, rule } = this.requireRule(String(input.RuleArn));
      if (rule.priority === 'default') throw elbError('OperationNotPermitted', 'Default rule cannot be deleted');
      lb.rules.delete(rule.arn);
      this.attachments = undefined;
      return {};
    },

    DescribeRules: (input) => {
      if (!input.ListenerArn && !input.RuleArns) throw elbError('ValidationError', 'A listener ARN or a set of rule ARNs must be specified');
      let list = input.ListenerArn ? [...this.requireListener(String(input.ListenerArn)).rules.values()] : [...this.allRules()].map(({ rule }) => rule);
      if (input.RuleArns) {
        const arns = input.RuleArns as string[];
        const known = new Set(list.map((rule) => rule.arn));
        if (arns.some((arn) => !known.has(arn))) throw elbError('RuleNotFound', 'One or more rules not found');
        list = list.filter((rule) => arns.includes(rule.arn));
      }
      list.sort((a, b) => (a.priority === 'default' ? 1 : b.priority === 'default' ? -1 : a.priority - b.priority));
      return this.paginate(list.map((rule) => this.ruleOutput(rule)), input, 'Rules');
    },

    AddTags: (input) => {
      for (const arn of input.ResourceArns as string[]) {
        const tags = this.tagsFor(arn);
        for (const [k, v] of tagsFromList(input.Tags)) tags.set(k, v);
        if (tags.size > 50) throw elbError('TooManyTags', 'You have reached the limit on the number of tags you can assign to a resource');
      }
      return {};
    },

    RemoveTags: (input) => {
      for (const arn of input.ResourceArns as string[]) {
        const tags = this.tagsFor(arn);
        for (const key of input.TagKeys as string[]) tags.delete(key);
      }
      return {};
    },

    DescribeTags: (input) => ({
      TagDescriptions: (input.ResourceArns as string[]).map((arn) => ({ ResourceArn: arn, Tags: pascalTagList(this.tagsFor(arn)) })),
    }),
  };

  private paginate(items: Input[], input: Input, key: string): Input {
    const size = Math.min(Number(input.PageSize ?? 400), 400);
    const start = input.Marker ? Number(Buffer.from(String(input.Marker), 'base64').toString()) : 0;
    const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
    return { [key]: items.slice(start, start + size), NextMarker: next };
  }

  private defaultRule(lb: LoadBalancerRecord): RuleRecord {
    return [...lb.rules.values()].find((rule) => rule.priority === 'default')!;
  }

  private requireListener(arn: string): LoadBalancerRecord {
    const lb = [...this.loadBalancers.values()].find((l) => l.listenerArn === arn);
    if (!lb) throw elbError('ListenerNotFound', 'One or more listeners not found');
    return lb;
  }

  private findRule(arn: string): { lb: LoadBalancerRecord; rule: RuleRecord } | undefined {
    for (const lb of this.loadBalancers.values()) {
      const rule = lb.rules.get(arn);
      if (rule) return { lb, rule };
    }
    return undefined;
  }

  private requireRule(arn: string): { lb: LoadBalancerRecord; rule: RuleRecord } {
    const found = this.findRule(arn);
    if (!found) throw elbError('RuleNotFound', 'One or more rules not found');
    return found;
  }

  private requireTargetGroup(arn: string): TargetGroupRecord {
    const tg = this.targetGroups.get(arn);
    if (!tg) throw elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return tg;
  }

  private tagsFor(arn: string): Map<string, string> {
    const found = this.targetGroups.get(arn)?.tags ?? this.findRule(arn)?.rule.tags ?? this.loadBalancers.get(arn)?.tags;
    if (found) return found;
    const listener = [...this.loadBalancers.values()].find((lb) => lb.listenerArn === arn);
    if (listener) return listener.listenerTags;
    if (arn.includes(':loadbalancer/')) throw elbError('LoadBalancerNotFound', 'One or more load balancers not found');
    if (arn.includes(':listener/')) throw elbError('ListenerNotFound', 'One or more listeners not found');
    if (arn.includes(':targetgroup/')) throw elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    if (arn.includes(':listener-rule/')) throw elbError('RuleNotFound', 'One or more rules not found');
    throw elbError('ValidationError', `'${arn}' is not a valid resource ARN`);
  }

  private validateActions(actions: Input[]): Input[] {
    if (actions.length === 0) throw elbError('ValidationError', 'At least one action must be specified');
    return actions.map((action, i) => {
      const type = action.Type;
      if (type === 'forward') {
        const arns = forwardTargets([action]);
        if (arns.length === 0) throw elbError('ValidationError', 'A target group ARN must be specified');
        for (const arn of arns) if (!this.targetGroups.has(arn)) throw elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
        const out: Input = { ...action, Order: action.Order ?? i + 1 };
        if (!out.ForwardConfig) out.ForwardConfig = { TargetGroups: arns.map((TargetGroupArn) => ({ TargetGroupArn, Weight: 1 })) };
        return out;
      }
      if (type === 'fixed-response') {
        if (!action.FixedResponseConfig?.StatusCode) throw elbError('ValidationError', 'A fixed response status code must be specified');
        return { ...action, Order: action.Order ?? i + 1 };
      }
      if (type === 'redirect') return { ...action, Order: action.Order ?? i + 1 };
      throw elbError('InvalidLoadBalancerAction', `Action type '${type}' is not supported by the simulated load balancer`);
    });
  }

  /**
   * A target group serves one load balancer (TargetGroupAssociationLimit), and one load balancer
   * uses at most 100 unique target groups across its rules (TooManyUniqueTargetGroupsPerLoadBalancer).
   */
  private checkTargetGroups(lb: LoadBalancerRecord, actions: Input[], replacing: RuleRecord | undefined): void {
    for (const arn of forwardTargets(actions)) {
      const owner = this.loadBalancerOf(arn);
      if (owner && owner !== lb) throw elbError('TargetGroupAssociationLimit', "You've reached the limit on the number of load balancers per target group.");
    }
    const used = new Set<string>();
    for (const rule of lb.rules.values()) if (rule !== replacing) for (const arn of forwardTargets(rule.actions)) used.add(arn);
    for (const arn of forwardTargets(actions)) used.add(arn);
    if (used.size > this.ctx.config.maxTargetGroups) {
      throw elbError(
        'TooManyUniqueTargetGroupsPerLoadBalancer',
        `You've reached the limit on the number of unique target groups per load balancer across all listeners (${this.ctx.config.maxTargetGroups}).`,
      );
    }
  }

  /** The rule this load balancer would pick for this Host header (lowest priority first, default last). */
  match(host: string, lb: LoadBalancerRecord = this.first): RuleRecord {
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const ordered = [...lb.rules.values()]
      .filter((rule) => rule.priority !== 'default')
      .sort((a, b) => (a.priority as number) - (b.priority as number));
    for (const rule of ordered) {
      const hostValues = rule.conditions
        .filter((c) => c.Field === 'host-header')
        .flatMap((c) => (c.HostHeaderConfig?.Values ?? c.Values ?? []) as string[]);
      if (hostValues.length === 0) continue;
      if (hostValues.some((pattern) => hostMatches(pattern, hostname, host))) return rule;
    }
    return this.defaultRule(lb);
  }

  environmentOf(tags: Map<string, string>): string | undefined {
    return tags.get(ENV_TAG);
  }

  stop(): void {
    this.healthChecks.stop();
  }
}

export function forwardTargets(actions: Input[]): string[] {
  const arns: string[] = [];
  for (const action of actions) {
    if (action.Type !== 'forward') continue;
    if (action.TargetGroupArn) arns.push(String(action.TargetGroupArn));
    for (const tg of (action.ForwardConfig?.TargetGroups ?? []) as Input[]) if (tg.TargetGroupArn && !arns.includes(tg.TargetGroupArn)) arns.push(String(tg.TargetGroupArn));
  }
  return arns;
}

function hostMatches(pattern: string, hostname: string, hostWithPort: string): boolean {
  const regex = new RegExp('^' + pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return regex.test(hostname) || regex.test(hostWithPort.toLowerCase());
}

function defaultAttributes(targetType: string): Map<string, string> {
  if (targetType === 'lambda') return new Map([['lambda.multi_value_headers.enabled', 'false']]);
  return new Map([
    ['deregistration_delay.timeout_seconds', '300'],
    ['stickiness.enabled', 'false'],
    ['stickiness.type', 'lb_cookie'],
    ['stickiness.lb_cookie.duration_seconds', '86400'],
    ['slow_start.duration_seconds', '0'],
    ['load_balancing.algorithm.type', 'round_robin'],
    ['load_balancing.cross_zone.enabled', 'use_load_balancer_configuration'],
  ]);
}

function validateTargetGroupName(name: string): void {
  if (name.length > 32) throw elbError('ValidationError', `Target group name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw elbError('ValidationError', `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`);
  }
  if (name.startsWith('-') || name.endsWith('-')) throw elbError('ValidationError', `Target group name '${name}' cannot begin or end with '-'`);
  if (name.toLowerCase().startsWith('internal-')) throw elbError('ValidationError', `Target group name '${name}' cannot begin with 'internal-'`);
}

function validateConditions(conditions: Input[]): Input[] {
  if (conditions.length === 0) throw elbError('ValidationError', 'A condition must be specified');
  return conditions.map((condition) => {
    const field = condition.Field;
    if (!['host-header', 'path-pattern', 'http-header', 'http-request-method', 'query-string', 'source-ip'].includes(field)) {
      throw elbError('ValidationError', `Condition field '${field}' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'`);
    }
    if (field === 'host-header') {
      const values = (condition.HostHeaderConfig?.Values ?? condition.Values ?? []) as string[];
      if (values.length === 0) throw elbError('ValidationError', 'A host-header condition must have at least one value');
      for (const value of values) {
        if (value.length > 128) throw elbError('ValidationError', `Condition value '${value}' must be 128 characters or fewer`);
        if (!/^[A-Za-z0-9.*?:_-]+$/.test(value)) throw elbError('ValidationError', `Condition value '${value}' contains a character that is not valid`);
      }
      return { Field: field, Values: values, HostHeaderConfig: { Values: values } };
    }
    return condition;
  });
}
