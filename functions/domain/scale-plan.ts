/**
 * The inputs of the scale workflow's AWS steps (statemachines/scale.asl.json, `$.scaling`),
 * and the autoscaling steps of create. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResourcePlan } from './resource-plan.ts';
import type { AutoscalingSettings } from './scaling.ts';

/** Application Auto Scaling target tracking on the service's average CPU (one policy per environment). */
export const CPU_POLICY_NAME = 'fledge-cpu';
/** A preview answers its first requests on a cold start: scale out fast, scale in slowly. */
export const SCALE_OUT_COOLDOWN_SECONDS = 60;
export const SCALE_IN_COOLDOWN_SECONDS = 300;

export interface AutoscalingPlan {
  MinCapacity: number;
  MaxCapacity: number;
  PolicyName: string;
  TargetValue: number;
  ScaleInCooldown: number;
  ScaleOutCooldown: number;
}

export interface ScalePlan {
  desiredCount: number;
  /** the service's desired count when the pass was planned */
  fromCount: number;
  /** desiredCount is 0: the listener rule goes to the waker first, the autoscaling target is removed */
  sleeping: boolean;
  /** Application Auto Scaling resource id: `service/<cluster>/<name>` */
  resourceId: string;
  /** the spec needs a new task definition revision (RegisterTaskDefinition + UpdateService with it) */
  deploy: boolean;
  /** the environment's listener rule (absent when it was removed out of band: the swap is skipped) */
  ruleArn?: string;
  /** the rule forwards to the service's target group already */
  ruleAtService: boolean;
  /** present when the environment runs with autoscaling: register the target, put the policy */
  autoscaling?: AutoscalingPlan;
}

export function autoscalingPlan(_name: string, settings: AutoscalingSettings): AutoscalingPlan {
  return {
    MinCapacity: settings.minCount,
    MaxCapacity: settings.maxCount,
    PolicyName: CPU_POLICY_NAME,
    TargetValue: settings.targetCpuPercent,
    ScaleInCooldown: SCALE_IN_COOLDOWN_SECONDS,
    ScaleOutCooldown: SCALE_OUT_COOLDOWN_SECONDS,
  };
}

/** What the service's task definition says, in the terms a spec decides. */
export interface TaskDefinitionShape {
  cpu?: string;
  memory?: string;
  image?: string;
  containerPort?: number;
  environment: Record<string, string>;
  secrets: Record<string, string>;
}

/**
 * Whether the plan's task definition differs from the one the service runs (so the scale
 * workflow must register a revision and deploy it). An unreadable one counts as different.
 */
export function needsNewRevision(plan: ResourcePlan, running: TaskDefinitionShape | undefined): boolean {
  if (!running) return true;
  const container = plan.taskDefinition.ContainerDefinitions[0]!;
  const wanted: TaskDefinitionShape = {
    cpu: plan.taskDefinition.Cpu,
    memory: plan.taskDefinition.Memory,
    image: container.Image,
    containerPort: container.PortMappings[0]?.ContainerPort,
    environment: Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value])),
    secrets: Object.fromEntries(container.Secrets.map((s) => [s.Name, s.ValueFrom])),
  };
  return !isDeepStrictEqual(wanted, running);
}
