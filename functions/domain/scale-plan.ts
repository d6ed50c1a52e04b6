/**
 * The inputs of the scale workflow's AWS steps (statemachines/scale.asl.json, `$.scaling`),
 * and the autoscaling steps of create. Pure.
 */
import type { AlarmPlan } from './alarms.ts';
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
  /** the spec runs another task definition than the service (UpdateService with it) */
  deploy: boolean;
  /** ...whose family has no ACTIVE revision yet (RegisterTaskDefinition first) */
  register: boolean;
  /** the environment's listener rule (absent when it was removed out of band: the swap is skipped) */
  ruleArn?: string;
  /** the rule forwards to the service's target group already */
  ruleAtService: boolean;
  /** present when the environment runs with autoscaling: register the target, put the policy */
  autoscaling?: AutoscalingPlan;
  /**
   * the tasks alarm while the count moves (alarms.ts transitionalTasksAlarm: the lower of the
   * two counts), put before the service changes; the spec's own (`plan.alarms.tasks`) is put
   * once the service is steady
   */
  tasksAlarm: AlarmPlan['tasks'];
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

/** `arn:...:task-definition/<family>:<revision>` -> `<family>` */
function familyOf(taskDefinitionArn: string): string {
  const tail = taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
  const colon = tail.lastIndexOf(':');
  return colon < 0 ? tail : tail.slice(0, colon);
}

/**
 * Whether the service must move to another task definition: families are content-addressed
 * (`fledge-td-<hash>` of everything the spec puts in it, docs/design.md "Shared task
 * definitions"), so the same family means the same container, whatever the count.
 */
export function needsNewRevision(plan: ResourcePlan, runningTaskDefinitionArn: string | undefined): boolean {
  return !runningTaskDefinitionArn || familyOf(runningTaskDefinitionArn) !== plan.taskDefinition.Family;
}
