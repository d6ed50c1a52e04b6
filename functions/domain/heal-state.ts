/**
 * The data a heal execution carries from state to state (statemachines/heal.asl.json), on
 * top of the workflow input every workflow has (workflow-state.ts).
 */
import type { OperationError } from './environment.ts';
import type { Findings, HealTrigger, RepairAction, Todo } from './healing.ts';
import type { CaughtError, WorkflowState } from './workflow-state.ts';

export interface HealProgress {
  /** seconds the next Wait state waits (backoff, or a draining service) */
  waitSeconds: number;
  /** heal attempts in the last hour, this heal's included */
  attempts: number;
  /** reconcile passes this execution made */
  passes: number;
  /** an earlier pass of this execution repaired something */
  repaired: boolean;
  /** why the last attempt did not bring the environment back */
  lastError?: OperationError;
}

/** Where the heal goes next (the ASL's Choice states read it). */
export type HealNext = 'wait' | 'drain' | 'healthy' | 'repair' | 'degrade' | 'retry' | 'done' | 'converge' | 'notify' | 'superseded';

export interface HealState extends WorkflowState {
  trigger?: HealTrigger;
  heal?: HealProgress;
  found?: Findings;
  todo?: Todo;
  actions?: RepairAction[];
  /** image of the task definition this pass registers (recreated service, rollback) */
  image?: string;
  rollbackFrom?: string;
  /** results of the repair steps of this pass */
  done?: Record<string, unknown>;
  repairError?: CaughtError;
  verifyError?: CaughtError;
  notification?: { Subject: string; Message: string };
  /**
   * set by FinishHeal when the heal ends RUNNING after changing something (or was asked
   * for): the alarms the ASL's Reset*Alarm states set back to OK (CloudWatch SetAlarmState),
   * so a fault that persists or returns raises a new ALARM and a new heal
   */
  alarmReset?: { tasks: string; unhealthy: string; errors: string; reason: string };
  next?: HealNext;
}

/** What belongs to one reconcile pass, dropped before the next one. */
export function forNextHealPass(state: HealState): HealState {
  const {
    todo: _todo, actions: _actions, found: _found, image: _image, rollbackFrom: _rollbackFrom, done: _done,
    repairError: _repairError, verifyError: _verifyError, steadyState: _steady, targetGroup: _tg, rule: _rule,
    taskDefinition: _td, service: _service, next: _next, previousHealthCheck: _previous, dnsChangeError: _dnsChangeError, ...rest
  } = state;
  return rest;
}
