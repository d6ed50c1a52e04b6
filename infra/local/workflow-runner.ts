/**
 * Runs Fledge's state machines (statemachines/<kind>.asl.json) on this machine with
 * aws-local-stepfunctions, for local mode and the workflow tests, behind an
 * SFN-compatible `sfnClient.send(command)`.
 *
 * Every Task state is overridden by its Resource, the way Step Functions would run it:
 * - `arn:aws:states:::aws-sdk:<service>:<action>` -> `callAws(service, 'PascalCaseAction', params)`,
 *   params and result in Step Functions' PascalCase shape; a thrown error reaches Retry/Catch
 *   under the name Step Functions gives it (`Ecs.ServiceNotFoundException`).
 * - `arn:aws:states:::lambda:invoke` -> `invokeLambda(functionArn, payload)`, the result wrapped
 *   as `{Payload, StatusCode}` like the optimized integration; a thrown error becomes the
 *   function error (Error = its name, Cause = `{"errorType","errorMessage"}`).
 * - `...waitForTaskToken` -> a fresh `$$.Task.Token`, the invocation, then a wait until
 *   SendTaskSuccess/SendTaskFailure for that token reaches `sfnClient` (or TimeoutSeconds
 *   passes: States.Timeout).
 *
 * Executions have deterministic names (StartExecution with the same name and input while
 * it runs returns the same execution; another input, or a finished one, is
 * ExecutionAlreadyExists, as on AWS), can be described, listed and stopped, and count their
 * state transitions (states entered plus retries, what Step Functions bills).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  StateMachineDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { type AnyWorkflowKind, WORKFLOW_KINDS, WORKFLOWS } from '#contract/workflows.ts';
import { sfnErrorNameOf, sfnServicePrefix } from './simulator/service-exceptions.ts';

/** Every state machine of functions/contract/workflows.ts, the scheduled cleanup's too. */
export type WorkflowKind = AnyWorkflowKind;
export { WORKFLOW_KINDS };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface RunnerLogger {
  debug?(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface WorkflowRunnerOptions {
  /** `definitionSubstitutions`: `${Name}` in the ASL -> value */
  substitutions: Record<string, string>;
  /** an AWS SDK integration call, PascalCase action and params (as Step Functions sends them) */
  callAws(service: string, action: string, params: Record<string, unknown>): Promise<unknown>;
  /** a Lambda invocation, returning the function's result */
  invokeLambda(functionArn: string, payload: unknown): Promise<unknown>;
  logger?: RunnerLogger;
  /** folder of the `<kind>.asl.json` files (default: statemachines/ of this repository) */
  definitionsDir?: string;
  region?: string;
  accountId?: string;
  /** state machine names are `<prefix><kind>` (default `fledge-`) */
  stateMachinePrefix?: string;
  /** wait this long between retries instead of the Retry's backoff (tests: 0) */
  retryIntervalMs?: number;
  /** replace the TimeoutSeconds of Task states, by state name (tests: a short backstop) */
  timeoutOverrides?: Record<string, number>;
  /** wait this many milliseconds in these Wait states instead of their Seconds/SecondsPath, by state name (tests) */
  waitOverridesMs?: Record<string, number>;
  /** how often a `.sync` ECS task is described while the runner waits for it to stop (default 250 ms) */
  syncPollMs?: number;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  kind: WorkflowKind;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  /** states entered plus retries */
  stateTransitions: number;
  /** state names in the order entered (retries not repeated) */
  statesEntered: string[];
  /** retries per state name (each also counted in stateTransitions) */
  retries: Record<string, number>;
}

interface PendingTask {
  executionArn: string;
  stateName: string;
  resolve(output: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

interface Execution {
  record: ExecutionRecord;
  done: Promise<ExecutionRecord>;
  abort(): void;
}

/** The SFN client surface the handlers use (`sfnClient()`). */
export interface SfnCompatibleClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

export interface WorkflowRunner {
  sfnClient: SfnCompatibleClient;
  stateMachineArn(kind: WorkflowKind): string;
  startExecution(kind: WorkflowKind, name: string, input: unknown): Promise<ExecutionRecord>;
  /** resolves when the execution has ended */
  waitForExecution(executionArn: string): Promise<ExecutionRecord>;
  describeExecution(executionArn: string): ExecutionRecord;
  listExecutions(kind?: WorkflowKind): ExecutionRecord[];
  transitions(executionArn: string): number;
  sendTaskSuccess(taskToken: string, output: unknown): void;
  sendTaskFailure(taskToken: string, error?: string, cause?: string): void;
  stopExecution(executionArn: string, error?: string, cause?: string): void;
  /** tokens waiting for an answer, with the execution and state that wait */
  pendingTaskTokens(): { taskToken: string; executionArn: string; stateName: string }[];
  /** stops every running execution (shutdown, end of a test) */
  close(): Promise<void>;
}

const NO_TIMEOUT_SECONDS = 2_000_000;

/** The optimized ECS integration the runner runs as Step Functions does ("Run a Job (.sync)"). */
const ECS_RUN_TASK_SYNC = 'arn:aws:states:::ecs:runTask.sync';
/** RunTask errors `ecs:runTask.sync` names `ECS.<code>`; any other is `ECS.AmazonECSException` (runTaskSync). */
const RUN_TASK_MODELED_ERRORS = new Set(['InvalidParameterException', 'ClientException', 'AccessDeniedException']);
/**
 * A Parameters key the runner adds to a `.sync` state with TimeoutSecondsPath: Step Functions reads
 * that path from the state's input, but aws-local-stepfunctions reads it from the effective
 * parameters, so the runner resolves it through Parameters and enforces the timeout itself.
 */
const TIMEOUT_PARAMETER = '__fledgeTimeoutSeconds';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The SDK v3 name of an AWS error (its class name when the model declares it, else the wire code). */
function awsErrorCode(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string; code?: string } | undefined;
  return e?.name && e.name !== 'Error' ? e.name : (e?.Code ?? e?.code);
}

/**
 * The name Step Functions gives an AWS SDK integration's error (infra/local/simulator/service-exceptions.ts):
 * `<Service>.<Name>` with the `Exception` suffix for an error the service's model declares
 * (`Ecs.ServiceNotFoundException`, Route 53 `InvalidChangeBatch` -> `Route53.InvalidChangeBatchException`),
 * the service's catch-all for any other (ECS `ThrottlingException` and ELBv2 `Throttling` are not
 * declared: `Ecs.EcsException`, `ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception`).
 */
export function sfnErrorName(service: string, error: unknown): string {
  const e = error as { sfnErrorName?: string } | undefined;
  if (typeof e?.sfnErrorName === 'string') return e.sfnErrorName;
  const name = awsErrorCode(error);
  if (name?.includes('.')) return name;
  return name ? sfnErrorNameOf(service, name) : `${sfnServicePrefix(service)}.${sfnServicePrefix(service)}Exception`;
}

/** `registerTaskDefinition` -> `RegisterTaskDefinition` */
export function pascalCase(action: string): string {
  return action.charAt(0).toUpperCase() + action.slice(1);
}

class StateError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function applySubstitutions(text: string, substitutions: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`no substitution for \${${key}} in the state machine definition`);
    return value;
  });
}

type StateDefinition = Record<string, unknown> & { Type: string; Resource?: string; TimeoutSeconds?: number };
type Definition = { States: Record<string, StateDefinition>; StartAt: string; TimeoutSeconds?: number };

/** Every state, including those inside Map item processors and Parallel branches. */
function allStates(definition: Definition): [string, StateDefinition][] {
  const out: [string, StateDefinition][] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push([name, state]);
    const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
    if (processor) out.push(...allStates(processor));
    for (const branch of (state.Branches as Definition[] | undefined) ?? []) out.push(...allStates(branch));
  }
  return out;
}

function findToken(value: unknown, issued: Set<string>): string | undefined {
  if (typeof value === 'string') return issued.has(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findToken(item, issued);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const found = findToken(item, issued);
      if (found) return found;
    }
  }
  return undefined;
}

/** Dates as Step Functions' integrations write them in JSON: epoch milliseconds. */
function epochMillis(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(epochMillis);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, epochMillis(item)]));
  return value;
}

function commandName(command: unknown): string {
  return (command as { constructor?: { name?: string } })?.constructor?.name ?? '';
}

export function createWorkflowRunner(options: WorkflowRunnerOptions): WorkflowRunner {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const prefix = options.stateMachinePrefix ?? 'fledge-';
  const definitionsDir = options.definitionsDir ?? join(REPO_ROOT, 'statemachines');
  const log = options.logger;

  const executions = new Map<string, Execution>();
  const pending = new Map<string, PendingTask>();
  /** tokens that existed once: answering them again is TaskTimedOut, not InvalidToken */
  const closedTokens = new Set<string>();
  const machines = new Map<WorkflowKind, { machine: StateMachine; definition: Definition }>();

  const stateMachineArn = (kind: WorkflowKind) => `arn:aws:states:${region}:${accountId}:stateMachine:${prefix}${WORKFLOWS[kind].stateMachineSuffix}`;

  function kindOf(arn: string): WorkflowKind {
    const machineName = arn.slice(arn.lastIndexOf(':') + 1);
    const kind = WORKFLOW_KINDS.find((k) => machineName.endsWith(WORKFLOWS[k].stateMachineSuffix));
    if (!kind) throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${arn}'`, $metadata: {} });
    return kind;
  }

  function machineFor(kind: WorkflowKind) {
    let entry = machines.get(kind);
    if (!entry) {
      const text = readFileSync(join(definitionsDir, WORKFLOWS[kind].asl), 'utf8');
      const definition = JSON.parse(applySubstitutions(text, options.substitutions)) as Definition;
      // validate as written, then apply the local overrides (which the validator may not accept)
      new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
      for (const [stateName, state] of allStates(definition)) {
        const override = options.timeoutOverrides?.[stateName];
        if (override !== undefined && state.Type === 'Task') state.TimeoutSeconds = override;
        if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string') {
          if (state.Resource !== ECS_RUN_TASK_SYNC) throw new Error(`${stateName}: the local runner supports TimeoutSecondsPath only on ${ECS_RUN_TASK_SYNC}`);
          if (state.TimeoutSeconds === undefined) {
            state.Parameters = { ...(state.Parameters as Record<string, unknown>), [`${TIMEOUT_PARAMETER}.$`]: state.TimeoutSecondsPath };
          }
          delete state.TimeoutSecondsPath;
        }
        if (state.Resource === ECS_RUN_TASK_SYNC && state.TimeoutSeconds !== undefined) {
          // the .sync handler enforces it (and stops the task, as Step Functions does)
          state.Parameters = { ...(state.Parameters as Record<string, unknown>), [TIMEOUT_PARAMETER]: state.TimeoutSeconds };
          delete state.TimeoutSeconds;
        }
        // aws-local-stepfunctions gives a Task without TimeoutSeconds 60 s; Step Functions gives it
        // none (and a Node timer cannot exceed ~24.8 days)
        if (state.Type === 'Task' && state.TimeoutSeconds === undefined) state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
      }
      entry = { machine: new StateMachine(definition as never, { validationOptions: { noValidate: true } }), definition };
      machines.set(kind, entry);
    }
    return entry;
  }

  function taskHandlers(definition: Definition, executionArn: string, issued: Set<string>) {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of allStates(definition)) {
      if (state.Type !== 'Task' || typeof state.Resource !== 'string') continue;
      const resource = state.Resource;
      const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
      if (sdk) {
        const service = sdk[1]!;
        const action = pascalCase(sdk[2]!);
        handlers[stateName] = async (input) => {
          try {
            return (await options.callAws(service, action, (input ?? {}) as Record<string, unknown>)) ?? {};
          } catch (error) {
            const name = sfnErrorName(service, error);
            const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
            throw new StateError(
              name,
              `${(error as Error).message} (Service: ${sfnServicePrefix(service)}, Status Code: ${status}, Request ID: local)`,
            );
          }
        };
      } else if (resource === ECS_RUN_TASK_SYNC) {
        handlers[stateName] = async (input) => runTaskSync(stateName, executionArn, input as Record<string, unknown>);
      } else if (resource === 'arn:aws:states:::lambda:invoke') {
        handlers[stateName] = async (input) => {
          const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
          return { ExecutedVersion: '$LATEST', Payload: await invoke(FunctionName, Payload), StatusCode: 200 };
        };
      } else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
        handlers[stateName] = async (input) => {
          const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
          const token = findToken(Payload, issued);
          if (!token) throw new StateError('States.Runtime', `${stateName}: the payload carries no $$.Task.Token`);
          const answered = new Promise<unknown>((resolve, reject) => {
            const task: PendingTask = { executionArn, stateName, resolve, reject };
            // Close the token when the state's own timeout (which aws-local-stepfunctions
            // enforces with States.Timeout) passes, so a late answer is TaskTimedOut.
            const timeoutSeconds = state.TimeoutSeconds;
            if (timeoutSeconds && timeoutSeconds < NO_TIMEOUT_SECONDS) {
              task.timer = setTimeout(() => closeToken(token), timeoutSeconds * 1000);
              task.timer.unref?.();
            }
            pending.set(token, task);
          });
          answered.catch(() => undefined);
          try {
            await invoke(FunctionName, Payload);
          } catch (error) {
            closeToken(token);
            throw error;
          }
          return answered;
        };
      } else {
        handlers[stateName] = async () => {
          throw new StateError('States.Runtime', `${stateName}: resource ${resource} is not supported by the local runner`);
        };
      }
    }
    return handlers;
  }

  /** `.sync` ECS tasks still running, by execution: stopped when the execution ends early (Step Functions stops them too). */
  const syncTasks = new Map<string, Map<string, string>>();

  /**
   * `arn:aws:states:::ecs:runTask.sync` as Step Functions runs it ("Run Amazon ECS or Fargate tasks
   * with Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html):
   * RunTask, a non-empty `Failures` fails the state with `AmazonECS.Unknown`; then the task is
   * watched until STOPPED; its description (PascalCase, times in epoch ms) is the output, unless a
   * container exited non-zero or never ran: then `States.TaskFailed` with the description as the
   * Cause (JSON). A refused RunTask is `ECS.<code>` for the errors ECS models as their own
   * (InvalidParameterException, ClientException, AccessDeniedException: cdklabs/construct-hub
   * PR #415 saw `ECS.InvalidParameterException` from the optimized integration, also when ECS's
   * own VPC/security-group lookups are throttled) and `ECS.AmazonECSException` for the rest
   * (throttling, server faults, capacity), ECS's code in the Cause either way. Past the state's
   * timeout the state fails with `States.Timeout` and the task is left running: AWS documents no
   * stop of the task on a state timeout ("Run Amazon ECS or Fargate tasks with Step Functions"),
   * so RecordHookRun stops it (functions/adapters/hook-tasks.ts).
   */
  async function runTaskSync(stateName: string, executionArn: string, input: Record<string, unknown>): Promise<unknown> {
    const { [TIMEOUT_PARAMETER]: timeout, ...params } = input;
    if (timeout !== undefined && !(Number.isInteger(timeout) && (timeout as number) >= 1)) {
      throw new StateError('States.Runtime', `${stateName}: TimeoutSecondsPath must resolve to a positive integer, got ${JSON.stringify(timeout)}`);
    }
    const deadline = Date.now() + (timeout === undefined ? NO_TIMEOUT_SECONDS : (timeout as number)) * 1000;
    let started: { Tasks?: Record<string, unknown>[]; Failures?: unknown[] };
    try {
      started = ((await options.callAws('ecs', 'RunTask', params)) ?? {}) as typeof started;
    } catch (error) {
      const code = awsErrorCode(error) ?? 'AmazonECSException';
      throw new StateError(RUN_TASK_MODELED_ERRORS.has(code) ? `ECS.${code}` : 'ECS.AmazonECSException', `${(error as Error).message} (Service: AmazonECS; Status Code: 400; Error Code: ${code}; Request ID: local)`);
    }
    if ((started.Failures ?? []).length > 0 || !started.Tasks?.[0]) {
      throw new StateError('AmazonECS.Unknown', JSON.stringify({ Failures: started.Failures ?? [] }));
    }
    const taskArn = String(started.Tasks[0].TaskArn);
    const cluster = String(params.Cluster ?? started.Tasks[0].ClusterArn);
    const running = syncTasks.get(executionArn) ?? new Map<string, string>();
    syncTasks.set(executionArn, running.set(taskArn, cluster));
    try {
      for (;;) {
        if (executions.get(executionArn)?.record.status !== 'RUNNING') throw new StateError('States.Runtime', 'the execution ended');
        // Step Functions' own watch of the task: a throttled or failed look is its problem, not the
        // state's (the state fails only on the task's outcome or its timeout), so it looks again
        const described = (await options.callAws('ecs', 'DescribeTasks', { Cluster: cluster, Tasks: [taskArn] }).catch((error: Error) => {
          log?.warn('a .sync task could not be described; looking again', { taskArn, error: error.message });
          return {};
        })) as { Tasks?: Record<string, unknown>[] };
        const task = described.Tasks?.[0];
        if (task?.LastStatus === 'STOPPED') {
          const output = epochMillis(task) as Record<string, unknown>;
          const containers = (output.Containers ?? []) as { ExitCode?: number }[];
          const failed = containers.length === 0 || containers.some((c) => c.ExitCode !== 0);
          if (failed) throw new StateError('States.TaskFailed', JSON.stringify(output));
          return output;
        }
        if (Date.now() >= deadline) {
          throw new StateError('States.Timeout', `${stateName} did not finish within its TimeoutSeconds`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(options.syncPollMs ?? 250, Math.max(1, deadline - Date.now()))));
      }
    } finally {
      running.delete(taskArn);
    }
  }

  async function stopSyncTask(cluster: string, taskArn: string, reason: string): Promise<void> {
    try {
      await options.callAws('ecs', 'StopTask', { Cluster: cluster, Task: taskArn, Reason: reason });
    } catch (error) {
      log?.warn('could not stop a .sync task', { taskArn, error: (error as Error).message });
    }
  }

  async function invoke(functionArn: string, payload: unknown): Promise<unknown> {
    try {
      const result = await options.invokeLambda(functionArn, payload);
      return result === undefined ? null : result;
    } catch (error) {
      const e = error as Error;
      const errorType = e?.name ?? 'Error';
      throw new StateError(errorType, JSON.stringify({ errorType, errorMessage: e?.message ?? String(error) }));
    }
  }

  function closeToken(token: string): PendingTask | undefined {
    const task = pending.get(token);
    if (task?.timer) clearTimeout(task.timer);
    pending.delete(token);
    closedTokens.add(token);
    return task;
  }

  function answer(token: string): PendingTask {
    const task = pending.get(token);
    if (!task) {
      if (closedTokens.has(token)) throw new TaskTimedOut({ message: 'Task Timed Out: Provided task does not exist anymore', $metadata: {} });
      throw new InvalidToken({ message: `Invalid Token: '${token.slice(0, 16)}...'`, $metadata: {} });
    }
    closeToken(token);
    return task;
  }

  function sendTaskSuccess(taskToken: string, output: unknown): void {
    answer(taskToken).resolve(output);
  }

  function sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    answer(taskToken).reject(new StateError(error ?? '', cause ?? ''));
  }

  function executionArnFor(kind: WorkflowKind, name: string) {
    return `arn:aws:states:${region}:${accountId}:execution:${prefix}${kind}:${name}`;
  }

  async function startExecution(kind: WorkflowKind, name: string, input: unknown): Promise<ExecutionRecord> {
    const inputText = typeof input === 'string' ? input : JSON.stringify(input ?? {});
    const executionArn = executionArnFor(kind, name);
    const existing = executions.get(executionArn);
    if (existing) {
      if (existing.record.status === 'RUNNING' && existing.record.input === inputText) return existing.record;
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
    }
    const { machine, definition } = machineFor(kind);
    const issued = new Set<string>();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: stateMachineArn(kind),
      kind,
      name,
      status: 'RUNNING',
      input: inputText,
      startDate: new Date(),
      stateTransitions: 0,
      statesEntered: [],
      retries: {},
    };
    const retryIntervalOverrides: Record<string, number> = {};
    if (options.retryIntervalMs !== undefined) {
      for (const [stateName, state] of allStates(definition)) if (state.Retry) retryIntervalOverrides[stateName] = options.retryIntervalMs;
    }
    const context = {
      Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${accountId}:role/fledge-local` },
      StateMachine: { Id: stateMachineArn(kind), Name: `${prefix}${kind}` },
      // a fresh token each time a state reads $$.Task.Token
      Task: {
        get Token() {
          const token = `${randomBytes(24).toString('base64url')}.${name}`;
          issued.add(token);
          return token;
        },
      },
    };
    const run = machine.run(JSON.parse(inputText), {
      overrides: {
        taskResourceLocalHandlers: taskHandlers(definition, executionArn, issued) as never,
        retryIntervalOverrides,
        ...(options.waitOverridesMs ? { waitTimeOverrides: options.waitOverridesMs } : {}),
      },
      context,
    });
    const counting = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered') {
          record.stateTransitions++;
          record.statesEntered.push(event.state.name);
        } else if (event.type === 'StateRetried') {
          record.stateTransitions++;
          record.retries[event.state.name] = (record.retries[event.state.name] ?? 0) + 1;
        } else if (event.type === 'StateFailed' || event.type === 'StateCaught') {
          log?.debug?.(`${event.type} ${event.state.name}`, { executionArn, ...('Error' in event ? { error: event.Error } : {}) });
        }
      }
    })();
    const done = (async () => {
      try {
        const output = await run.result;
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output);
      } catch (error) {
        if (error instanceof ExecutionTimeoutError) {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
        } else if (error instanceof ExecutionAbortedError) {
          record.status = 'ABORTED';
        } else {
          const cause = (error as ExecutionError).cause as Error | undefined;
          record.status = 'FAILED';
          record.error = cause?.name ?? (error as Error).name;
          record.cause = cause?.message ?? (error as Error).message;
        }
      }
      record.stopDate = new Date();
      for (const [token, task] of [...pending]) if (task.executionArn === executionArn) closeToken(token);
      // a stopped (or timed-out) execution stops the .sync tasks it was waiting for, as Step Functions does
      for (const [taskArn, cluster] of syncTasks.get(executionArn) ?? []) await stopSyncTask(cluster, taskArn, 'the Step Functions execution ended');
      syncTasks.delete(executionArn);
      await Promise.race([counting, new Promise((resolve) => setTimeout(resolve, 50))]);
      if (record.status === 'SUCCEEDED') {
        log?.info('execution succeeded', { executionArn, stateTransitions: record.stateTransitions });
      } else if (record.status !== 'ABORTED') {
        log?.warn('execution failed', { executionArn, status: record.status, error: record.error, cause: record.cause });
      }
      return record;
    })();
    executions.set(executionArn, {
      record,
      done,
      abort: () => run.abort(),
    });
    log?.info('execution started', { executionArn });
    return record;
  }

  function get(executionArn: string): Execution {
    const execution = executions.get(executionArn);
    if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return execution;
  }

  function stopExecution(executionArn: string, error?: string, cause?: string): void {
    const execution = get(executionArn);
    if (execution.record.status !== 'RUNNING') return;
    execution.record.error = error;
    execution.record.cause = cause;
    execution.abort();
  }

  const describe = (record: ExecutionRecord) => ({
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    stopDate: record.stopDate,
    input: record.input,
    output: record.output,
    error: record.error,
    cause: record.cause,
    stateTransitions: record.stateTransitions,
  });

  const sfnClient: SfnCompatibleClient = {
    async send(command) {
      const input = (command as { input?: Record<string, unknown> }).input ?? {};
      switch (commandName(command)) {
        case 'StartExecutionCommand': {
          const kind = kindOf(String(input.stateMachineArn));
          const record = await startExecution(kind, String(input.name ?? randomBytes(8).toString('hex')), input.input ?? '{}');
          return { executionArn: record.executionArn, startDate: record.startDate, $metadata: {} };
        }
        case 'StopExecutionCommand': {
          stopExecution(String(input.executionArn), input.error as string | undefined, input.cause as string | undefined);
          return { stopDate: new Date(), $metadata: {} };
        }
        case 'DescribeExecutionCommand':
          return { ...describe(get(String(input.executionArn)).record), $metadata: {} };
        case 'ListExecutionsCommand': {
          const kind = input.stateMachineArn ? kindOf(String(input.stateMachineArn)) : undefined;
          const items = listExecutions(kind).filter((r) => !input.statusFilter || r.status === input.statusFilter);
          const max = Number(input.maxResults ?? 100) || 100;
          const start = Number(input.nextToken ?? 0);
          const page = items.slice(start, start + max);
          return {
            executions: page.map((r) => ({
              executionArn: r.executionArn, stateMachineArn: r.stateMachineArn, name: r.name, status: r.status,
              startDate: r.startDate, stopDate: r.stopDate,
            })),
            nextToken: start + max < items.length ? String(start + max) : undefined,
            $metadata: {},
          };
        }
        case 'SendTaskSuccessCommand': {
          const output = typeof input.output === 'string' ? JSON.parse(input.output) : (input.output ?? {});
          sendTaskSuccess(String(input.taskToken), output);
          return { $metadata: {} };
        }
        case 'SendTaskFailureCommand':
          sendTaskFailure(String(input.taskToken), input.error as string | undefined, input.cause as string | undefined);
          return { $metadata: {} };
        case 'SendTaskHeartbeatCommand':
          if (!pending.has(String(input.taskToken))) answer(String(input.taskToken));
          return { $metadata: {} };
        default:
          throw new Error(`the local Step Functions client does not support ${commandName(command) || 'this command'}`);
      }
    },
  };

  function listExecutions(kind?: WorkflowKind): ExecutionRecord[] {
    return [...executions.values()]
      .map((e) => e.record)
      .filter((r) => !kind || r.kind === kind)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  return {
    sfnClient,
    stateMachineArn,
    startExecution,
    waitForExecution: (executionArn) => get(executionArn).done,
    describeExecution: (executionArn) => get(executionArn).record,
    listExecutions,
    transitions: (executionArn) => get(executionArn).record.stateTransitions,
    sendTaskSuccess,
    sendTaskFailure,
    stopExecution,
    pendingTaskTokens: () => [...pending].map(([taskToken, t]) => ({ taskToken, executionArn: t.executionArn, stateName: t.stateName })),
    async close() {
      const running = [...executions.values()].filter((e) => e.record.status === 'RUNNING');
      for (const e of running) e.abort();
      await Promise.allSettled(running.map((e) => e.done));
    },
  };
}
