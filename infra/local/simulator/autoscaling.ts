/**
 * Simulated Application Auto Scaling for ECS services: scalable targets (min/max clamp the
 * service's desired count when registered) and target-tracking / step policies (stored and
 * described; the simulated load is flat, so they never scale on their own).
 */
import { awsError } from './errors.ts';
import { hex, type SimContext } from './context.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ScalableTargetRecord {
  arn: string;
  resourceId: string;
  settings: Input;
  tags: Record<string, string>;
  createdAt: number;
}

export interface ScalingPolicyRecord {
  arn: string;
  name: string;
  resourceId: string;
  settings: Input;
  createdAt: number;
}

/** ECS service resource ids look like `service/<cluster>/<service>`. */
export interface ServiceCapacityPort {
  exists(cluster: string, service: string): boolean;
  desiredCount(cluster: string, service: string): number | undefined;
  setDesiredCount(cluster: string, service: string, count: number): void;
}

const aasError = (code: string, message: string) => awsError('applicationautoscaling', code, message);

export class AutoScalingSimulator {
  readonly targets = new Map<string, ScalableTargetRecord>();
  readonly policies = new Map<string, ScalingPolicyRecord>();
  capacity!: ServiceCapacityPort;

  constructor(private readonly ctx: SimContext) {}

  private check(input: Input): { cluster: string; service: string } {
    if (input.ServiceNamespace !== 'ecs') {
      throw aasError('ValidationException', `Unsupported service namespace ${input.ServiceNamespace} (the simulator scales ECS services only)`);
    }
    if (input.ScalableDimension !== 'ecs:service:DesiredCount') {
      throw aasError('ValidationException', `Unsupported scalable dimension ${input.ScalableDimension}`);
    }
    const match = /^service\/([^/]+)\/([^/]+)$/.exec(String(input.ResourceId));
    if (!match) throw aasError('ValidationException', `Unsupported resource ID ${input.ResourceId}`);
    return { cluster: match[1]!, service: match[2]! };
  }

  private key(input: Input): string {
    return `${input.ServiceNamespace}|${input.ResourceId}|${input.ScalableDimension}`;
  }

  private notRegistered(input: Input): Error {
    return aasError(
      'ObjectNotFoundException',
      `No scalable target registered for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}`,
    );
  }

  readonly actions: Record<string, (input: Input) => Input> = {
    RegisterScalableTarget: (input) => {
      const { cluster, service } = this.check(input);
      const key = this.key(input);
      const existing = this.targets.get(key);
      if (!existing && (input.MinCapacity === undefined || input.MaxCapacity === undefined)) {
        throw aasError('ValidationException', 'MinCapacity and MaxCapacity are required for registering a new scalable target');
      }
      const settings = { ...existing?.settings, ...stripUndefined(input) };
      delete settings.Tags;
      if (settings.MinCapacity > settings.MaxCapacity) throw aasError('ValidationException', 'Minimum capacity cannot be greater than maximum capacity');
      if (!this.capacity.exists(cluster, service)) {
        throw aasError('ValidationException', `ECS service doesn't exist: ${input.ResourceId}`);
      }
      const record: ScalableTargetRecord = existing ?? {
        arn: this.ctx.arn('application-autoscaling', `scalable-target/${hex(14)}`),
        resourceId: String(input.ResourceId),
        settings,
        tags: {},
        createdAt: this.ctx.clock.now(),
      };
      record.settings = settings;
      if (input.Tags) Object.assign(record.tags, input.Tags);
      this.targets.set(key, record);
      // a desired count outside the new range is moved into it
      const current = this.capacity.desiredCount(cluster, service);
      if (current !== undefined) {
        const clamped = Math.min(Math.max(current, Number(settings.MinCapacity)), Number(settings.MaxCapacity));
        if (clamped !== current) this.capacity.setDesiredCount(cluster, service, clamped);
      }
      return { ScalableTargetARN: record.arn };
    },

    DeregisterScalableTarget: (input) => {
      this.check(input);
      const key = this.key(input);
      if (!this.targets.has(key)) throw this.notRegistered(input);
      this.targets.delete(key);
      for (const [policyKey, policy] of this.policies) if (policy.resourceId === input.ResourceId) this.policies.delete(policyKey);
      return {};
    },

    DescribeScalableTargets: (input) => {
      if (input.ServiceNamespace !== 'ecs') return { ScalableTargets: [] };
      let list = [...this.targets.values()];
      if (input.ResourceIds) list = list.filter((t) => (input.ResourceIds as string[]).includes(t.resourceId));
      return {
        ScalableTargets: list.map((t) => ({
          ...t.settings,
          ScalableTargetARN: t.arn,
          RoleARN: t.settings.RoleARN ?? `arn:aws:iam::${this.ctx.config.accountId}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
          CreationTime: new Date(t.createdAt),
          SuspendedState: t.settings.SuspendedState ?? { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
        })),
      };
    },

    PutScalingPolicy: (input) => {
      this.check(input);
      if (!this.targets.has(this.key(input))) throw this.notRegistered(input);
      const type = input.PolicyType ?? 'StepScaling';
      if (type === 'TargetTrackingScaling' && !input.TargetTrackingScalingPolicyConfiguration) {
        throw aasError('ValidationException', 'TargetTrackingScalingPolicyConfiguration is required for TargetTrackingScaling policies');
      }
      if (type === 'StepScaling' && !input.StepScalingPolicyConfiguration) {
        throw aasError('ValidationException', 'StepScalingPolicyConfiguration is required for StepScaling policies');
      }
      const tt = input.TargetTrackingScalingPolicyConfiguration;
      if (tt && (tt.TargetValue === undefined || (!tt.PredefinedMetricSpecification && !tt.CustomizedMetricSpecification))) {
        throw aasError('ValidationException', 'A target value and a metric specification are required');
      }
      const key = `${this.key(input)}|${input.PolicyName}`;
      const existing = this.policies.get(key);
      const policyId = existing?.arn.split(':').at(-3) ?? crypto.randomUUID();
      const arn =
        existing?.arn ??
        this.ctx.arn('application-autoscaling', `scalingPolicy:${policyId}:resource/ecs/${String(input.ResourceId).slice('service/'.length)}:policyName/${input.PolicyName}`);
      this.policies.set(key, { arn, name: String(input.PolicyName), resourceId: String(input.ResourceId), settings: { ...input, PolicyType: type }, createdAt: existing?.createdAt ?? this.ctx.clock.now() });
      const alarms =
        type === 'TargetTrackingScaling'
          ? [
              { AlarmName: `TargetTracking-${input.ResourceId}-AlarmHigh-${policyId}`, AlarmARN: this.ctx.arn('cloudwatch', `alarm:TargetTracking-${input.ResourceId}-AlarmHigh-${policyId}`) },
              { AlarmName: `TargetTracking-${input.ResourceId}-AlarmLow-${policyId}`, AlarmARN: this.ctx.arn('cloudwatch', `alarm:TargetTracking-${input.ResourceId}-AlarmLow-${policyId}`) },
            ]
          : [];
      return { PolicyARN: arn, Alarms: alarms };
    },

    DeleteScalingPolicy: (input) => {
      this.check(input);
      const key = `${this.key(input)}|${input.PolicyName}`;
      if (!this.policies.has(key)) {
        throw aasError('ObjectNotFoundException', `No scaling policy found for service namespace: ecs, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, policy name: ${input.PolicyName}`);
      }
      this.policies.delete(key);
      return {};
    },

    DescribeScalingPolicies: (input) => {
      let list = [...this.policies.values()];
      if (input.ResourceId) list = list.filter((p) => p.resourceId === input.ResourceId);
      if (input.PolicyNames) list = list.filter((p) => (input.PolicyNames as string[]).includes(p.name));
      return { ScalingPolicies: list.map((p) => ({ ...p.settings, PolicyARN: p.arn, CreationTime: new Date(p.createdAt), Alarms: [] })) };
    },

    TagResource: (input) => {
      const target = [...this.targets.values()].find((t) => t.arn === input.ResourceARN);
      if (!target) throw aasError('ResourceNotFoundException', `Resource ${input.ResourceARN} not found`);
      Object.assign(target.tags, input.Tags);
      return {};
    },

    UntagResource: (input) => {
      const target = [...this.targets.values()].find((t) => t.arn === input.ResourceARN);
      if (!target) throw aasError('ResourceNotFoundException', `Resource ${input.ResourceARN} not found`);
      for (const key of input.TagKeys as string[]) delete target.tags[key];
      return {};
    },

    ListTagsForResource: (input) => {
      const target = [...this.targets.values()].find((t) => t.arn === input.ResourceARN);
      if (!target) throw aasError('ResourceNotFoundException', `Resource ${input.ResourceARN} not found`);
      return { Tags: { ...target.tags } };
    },
  };
}

function stripUndefined(input: Input): Input {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}
