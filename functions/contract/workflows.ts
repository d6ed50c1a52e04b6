/**
 * The workflows, one entry per kind: the ASL file under statemachines/ (written by
 * `npm run build:asl`), the suffix of the state machine's name, the environment variable that
 * carries its ARN to the Lambdas that start it, and the task Lambdas (functions/tasks/<name>.ts)
 * its ASL invokes. The workflow starter, infra/aws (state machines and their roles),
 * infra/local (the runner) and the tests read it; test/workflow/asl-build.test.ts checks the
 * Lambda lists against the ASL.
 */
import type { WorkflowKind } from '#domain/workflow-state.ts';

/** A file under functions/tasks/, without `.ts`. */
export type TaskLambdaName =
  | 'plan-resources'
  | 'await-steady-state'
  | 'complete-operation'
  | 'fail-operation'
  | 'discover-resources'
  | 'finish-teardown'
  | 'plan-scale'
  | 'complete-scale'
  | 'inspect-environment'
  | 'finish-heal'
  | 'degrade-environment'
  | 'plan-cleanup'
  | 'cleanup-environment'
  | 'reconcile-orphans'
  | 'heal-missed-alarms'
  | 'report-cleanup'
  | 'record-hook-run'
  | 'recheck-dns-record';

export interface WorkflowDefinition {
  /** the ASL file under statemachines/ */
  asl: string;
  /** the state machine is named `<prefix><suffix>` (locally `fledge-<suffix>`) */
  stateMachineSuffix: string;
  /**
   * Started by functions/ (API commands, the heal trigger, the cleanup's tasks) through
   * functions/adapters/workflow-starter.ts, which reads the ARN from `arnVariable`. The
   * cleanup is started by its EventBridge Scheduler schedule only.
   */
  started: { byFunctions: true; arnVariable: string } | { byFunctions: false };
  /** the task Lambdas its ASL invokes */
  taskLambdas: readonly TaskLambdaName[];
}

/** The kinds functions/ starts: those an operation runs (`Operation.workflow`). */
export type StartedWorkflowKind = WorkflowKind;
/** Every state machine: the ones functions/ starts, and the scheduled cleanup. */
export type AnyWorkflowKind = StartedWorkflowKind | 'cleanup';

const started = <V extends string>(arnVariable: V) => ({ byFunctions: true, arnVariable }) as const;

export const WORKFLOWS = {
  create: {
    asl: 'create.asl.json',
    stateMachineSuffix: 'create',
    started: started('FLEDGE_CREATE_STATE_MACHINE_ARN'),
    taskLambdas: ['plan-resources', 'recheck-dns-record', 'await-steady-state', 'complete-operation', 'fail-operation', 'record-hook-run'],
  },
  update: {
    asl: 'update.asl.json',
    stateMachineSuffix: 'update',
    started: started('FLEDGE_UPDATE_STATE_MACHINE_ARN'),
    taskLambdas: ['plan-resources', 'await-steady-state', 'complete-operation', 'fail-operation', 'record-hook-run'],
  },
  teardown: {
    asl: 'teardown.asl.json',
    stateMachineSuffix: 'teardown',
    started: started('FLEDGE_TEARDOWN_STATE_MACHINE_ARN'),
    taskLambdas: ['discover-resources', 'finish-teardown', 'fail-operation', 'record-hook-run'],
  },
  scale: {
    asl: 'scale.asl.json',
    stateMachineSuffix: 'scale',
    started: started('FLEDGE_SCALE_STATE_MACHINE_ARN'),
    taskLambdas: ['plan-scale', 'await-steady-state', 'complete-scale', 'record-hook-run'],
  },
  heal: {
    asl: 'heal.asl.json',
    stateMachineSuffix: 'heal',
    started: started('FLEDGE_HEAL_STATE_MACHINE_ARN'),
    taskLambdas: ['inspect-environment', 'recheck-dns-record', 'await-steady-state', 'finish-heal', 'complete-operation', 'degrade-environment'],
  },
  cleanup: {
    asl: 'cleanup.asl.json',
    stateMachineSuffix: 'cleanup',
    started: { byFunctions: false },
    taskLambdas: ['plan-cleanup', 'cleanup-environment', 'reconcile-orphans', 'heal-missed-alarms', 'report-cleanup'],
  },
} as const satisfies Record<AnyWorkflowKind, WorkflowDefinition>;

export const WORKFLOW_KINDS = Object.keys(WORKFLOWS) as AnyWorkflowKind[];

export const STARTED_WORKFLOW_KINDS = WORKFLOW_KINDS.filter((kind): kind is StartedWorkflowKind => WORKFLOWS[kind].started.byFunctions);

/** The environment variable that carries the ARN of a workflow functions/ starts. */
export type ArnVariable = (typeof WORKFLOWS)[StartedWorkflowKind]['started']['arnVariable'];

export const arnVariable = (kind: StartedWorkflowKind): ArnVariable => WORKFLOWS[kind].started.arnVariable;

/** `plan-resources` -> `PlanResourcesFunctionArn`: the ASL substitution that carries a task Lambda's ARN. */
export const functionArnSubstitution = (lambda: TaskLambdaName): string =>
  `${lambda.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase())}FunctionArn`;
