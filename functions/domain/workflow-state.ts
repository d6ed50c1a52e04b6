/**
 * The data a create / update / teardown execution carries from state to state (the JSON
 * of the state machine, docs/design.md "Workflows"), and what the task Lambdas receive.
 */
import type { EnvironmentSpec } from './environment-spec.ts';
import type { ResourcePlan, TargetGroupHealthCheck } from './resource-plan.ts';
import type { Shard } from './shards.ts';

export type WorkflowKind = 'create' | 'update' | 'teardown' | 'scale' | 'heal';

/** Input of every workflow execution. */
export interface WorkflowInput {
  name: string;
  operationId: string;
  specVersion: number;
  spec: EnvironmentSpec;
  actor: string;
}

/** A step's result in the state (`ResultSelector: {"arn.$": ...}`). */
export interface ArnRef {
  arn: string;
}

/** `{Error, Cause}` as a Catch puts it in the state. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

export interface SteadyState {
  runningCount?: number;
  desiredCount?: number;
  taskDefinitionArn?: string;
}

export interface WorkflowState extends WorkflowInput {
  /** request inputs of the AWS steps (PlanResources, or a convergence) */
  plan?: ResourcePlan;
  /** the environment's load balancer (its listener, waker, DNS name), put by every workflow's plan step */
  shard?: Shard;
  listenerPriority?: number;
  /** how AwaitSteadyState reads a failed deployment: `update` has a previous one to roll back to */
  phase?: 'create' | 'update' | 'scale';
  /** what this execution created (or, for an update, uses), set by each step as it succeeds */
  taskDefinition?: ArnRef;
  targetGroup?: ArnRef;
  rule?: ArnRef;
  service?: ArnRef;
  /** what AwaitSteadyState reported */
  steadyState?: SteadyState;
  /**
   * the target group's health check before this pass's ModifyTargetGroup changed it (only when
   * it changes it): RestoreHealthCheck puts it back after a rollback, and the spec says it again
   */
  previousHealthCheck?: TargetGroupHealthCheck;
  /** set by the Catch of AwaitSteadyState when the circuit breaker rolled the deployment back */
  rollback?: CaughtError;
  /** set by the Catch of a failed step */
  error?: CaughtError;
  /** set by the Catch of a terminal step that failed itself (the fallback records the end) */
  terminalError?: CaughtError;
  /** set by CompleteOperation / FailOperation: the desired spec moved, go again with it */
  converge?: boolean;
  /** set by CompleteOperation / FailOperation / FinishTeardown */
  outcome?: 'succeeded' | 'rolled-back' | 'failed' | 'superseded';
  [key: string]: unknown;
}

/** The payload the ASL sends to a task Lambda. */
export interface TaskPayload {
  workflow: WorkflowKind;
  executionArn?: string;
  /**
   * set by the `*Fallback` states that catch a failed terminal step (FailOperation,
   * CompleteScaleAfterFailure, DegradeEnvironment): record the end of the operation with the
   * least the Lambda needs, nothing else
   */
  fallback?: boolean;
  state: WorkflowState;
}

/** Drops what belongs to one pass of the workflow before it goes round again. */
export function forNextPass(state: WorkflowState): WorkflowState {
  const {
    error: _error, rollback: _rollback, steadyState: _steady, converge: _converge, outcome: _outcome, previousHealthCheck: _previous, ...rest
  } = state;
  return rest;
}
