/**
 * The vocabulary the workflow sources are written in: plain Amazon States Language (JSONPath)
 * objects, plus helpers for what every Task repeats (its Resource ARN, the Lambda's
 * `${<Name>FunctionArn}` substitution, Catch entries). The output is what Step Functions and
 * aws-local-stepfunctions read: nothing here adds behaviour, it only spells it once.
 */
import type { TaskLambdaName } from '#contract/workflows.ts';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type State = { [key: string]: Json };
export type States = Record<string, State>;

export interface StateMachine {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: States;
}

/** A Retry entry (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). */
export interface Retrier {
  [key: string]: Json;
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
}

type Pascal<S extends string> = S extends `${infer Head}-${infer Rest}` ? `${Capitalize<Head>}${Pascal<Rest>}` : Capitalize<S>;

/** A task Lambda of functions/contract/workflows.ts by its file name in PascalCase (`plan-resources` -> `PlanResources`). */
export type TaskLambda = Pascal<TaskLambdaName>;

/** The definition substitution that carries a task Lambda's ARN (CDK and local mode fill it in). */
export const functionArn = (lambda: TaskLambda) => `\${${lambda}FunctionArn}`;

/** A Task state's fields besides Type and Resource, Comment first (it reads first in the file). */
type TaskFields = State & { Comment?: string };

function task(resource: string, fields: TaskFields, parameters?: State): State {
  const { Comment, Parameters, ...rest } = fields;
  return {
    Type: 'Task',
    ...(Comment === undefined ? {} : { Comment }),
    Resource: resource,
    ...(parameters ?? (Parameters === undefined ? {} : { Parameters })),
    ...rest,
  };
}

/** `lambda:invoke` of a task Lambda; `fields.Parameters` is what is sent besides the FunctionName (the Payload). */
export function lambdaTask(lambda: TaskLambda, fields: TaskFields): State {
  const parameters = (fields.Parameters ?? {}) as State;
  return task('arn:aws:states:::lambda:invoke', fields, { Parameters: { FunctionName: functionArn(lambda), ...parameters } });
}

/** `lambda:invoke.waitForTaskToken`: the Lambda stores `$$.Task.Token`; an event (or the Lambda) answers it. */
export function lambdaTaskWithToken(lambda: TaskLambda, fields: TaskFields): State {
  const parameters = (fields.Parameters ?? {}) as State;
  return task('arn:aws:states:::lambda:invoke.waitForTaskToken', fields, {
    Parameters: { FunctionName: functionArn(lambda), ...parameters },
  });
}

/** An AWS SDK integration, `ecs:createService` -> `arn:aws:states:::aws-sdk:ecs:createService`. */
export function sdkTask(action: string, fields: TaskFields): State {
  return task(`arn:aws:states:::aws-sdk:${action}`, fields);
}

/** An optimized integration with its pattern, `ecs:runTask.sync` -> `arn:aws:states:::ecs:runTask.sync`. */
export function optimizedTask(integration: string, fields: TaskFields): State {
  return task(`arn:aws:states:::${integration}`, fields);
}

/** Catch every error, keep the input, record the error at `resultPath`, go on at `next`. */
export const catchAll = (resultPath: string, next: string): State => ({ ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: next });

/** Catch these errors and go on at `next` with the input as it was (`ResultPath: null`). */
export const catchErrors = (errors: string[], next: string, resultPath: string | null = null): State => ({
  ErrorEquals: errors,
  ResultPath: resultPath,
  Next: next,
});

/** Tags of a resource that belongs to the environment of the execution (`$.name`). */
export const environmentTags: Json[] = [
  { Key: 'fledge:environment', 'Value.$': '$.name' },
  { Key: 'fledge:managed-by', Value: 'fledge' },
];

/** A value Step Functions takes from the state at run time: written as `"<key>.$": "<path>"`. */
export class Path {
  constructor(readonly path: string) {}
}
export const $ = (path: string) => new Path(path);

/** `{ Key: $('$.x') }` -> `{ 'Key.$': '$.x' }`, all the way down: for templates written over a value type. */
export function withPaths(value: unknown): Json {
  if (Array.isArray(value)) return value.map(withPaths);
  if (value === null || typeof value !== 'object') return value as Json;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => (item instanceof Path ? [`${key}.$`, item.path] : [key, withPaths(item)])),
  );
}

/** A Choice rule: the boolean at `path` is present and true. */
export const isTrue = (path: string): State => ({
  And: [
    { Variable: path, IsPresent: true },
    { Variable: path, BooleanEquals: true },
  ],
});
