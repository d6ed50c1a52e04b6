/**
 * Quotas that cannot leak (README "Two commands", docs/security.md "Quotas"): a model-based
 * property test (fast-check `fc.commands` + `fc.asyncModelRun`) against DynamoDB Local. Random
 * sequences of create (PUT, POST, and a record written before `quotaCounters` existed),
 * update, relabel attempt (PUT and PATCH), delete, teardown (the FinishTeardown task
 * Lambda, once or as two concurrent duplicate executions), teardown retry (a finished or
 * superseded teardown's FinishTeardown run again), failed teardown, failed create or update
 * (the FailOperation task Lambda after compensation), a workflow Step Functions refuses to
 * start, and creates beyond small quotas (5 in all, 2 per repository) run the real domain
 * commands and task handlers; after every step each counter (global and every repository's)
 * must equal the number of live records it counts, and every answer must be the one the
 * model expects (accepted, 429 naming the limit, 400 naming `labels.repository`, ...).
 *
 * Bounded for CI (FLEDGE_QUOTA_RUNS runs, default 40, of up to 60 steps). The seed is printed;
 * a failure is replayed with `FLEDGE_QUOTA_SEED=<seed> npm test -- test/workflow/quota-model.test.ts`
 * (add `FLEDGE_QUOTA_PATH=<path> FLEDGE_QUOTA_REPLAY_PATH=<replayPath>` from fast-check's report
 * to run only the shrunk counterexample).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { resetClients, useClients } from '../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { completeOperation } from '../../functions/adapters/operation-store.ts';
import { apiConfig, resetConfig } from '../../functions/runtime/config.ts';
import {
  createEnvironment, deleteEnvironment, patchEnvironment, putEnvironment, systemCaller, type CommandResult, type TenantCaller,
} from '../../functions/commands/environment-commands.ts';
import { AwsThrottled, Conflict, DomainError, EnvironmentNotFound, QuotaExceeded, ValidationFailed } from '../../functions/domain/errors.ts';
import { applyPatch, parseSpec } from '../../functions/domain/spec-validation.ts';
import { handler as failOperationHandler } from '../../functions/tasks/fail-operation.ts';
import { handler as finishTeardownHandler } from '../../functions/tasks/finish-teardown.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './support/dynamodb-local.ts';
import { simulatorFor, taskRuntimeEnvironment } from './support/sim-harness.ts';
import { invoked } from '../support/lambda-context.ts';
const failOperation = invoked(failOperationHandler);
const finishTeardown = invoked(finishTeardownHandler);

const GLOBAL = 5;
const PER_REPOSITORY = 2;
const NAMES = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6'] as const;
const REPOSITORIES = ['acme/a', 'acme/b', 'acme/c', undefined] as const;
const IMAGES = ['web:1', 'web:2'] as const;

const RUNS = Number(process.env.FLEDGE_QUOTA_RUNS ?? 40);
const SEED = Number(process.env.FLEDGE_QUOTA_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** to jump straight to a shrunk counterexample: fast-check's `path` and the commands' `replayPath` from its report */
const PATH = process.env.FLEDGE_QUOTA_PATH;
const REPLAY_PATH = process.env.FLEDGE_QUOTA_REPLAY_PATH;
const MAX_STEPS = 60;
console.log(`quota model: FLEDGE_QUOTA_SEED=${SEED} (${RUNS} runs of up to ${MAX_STEPS} steps)`);

// an operator: the model creates under several repositories with one caller
const caller: TenantCaller = systemCaller({ actor: 'arn:aws:iam::000000000000:user/ci', requestId: 'quota-model' });

// ---- the two AWS services the steps touch besides DynamoDB ------------------------------------

/**
 * Step Functions: starts succeed unless the next one is refused (a throttled or denied
 * StartExecution). A stand-in, not the local workflow runner: the model takes each workflow's
 * steps itself (FinishTeardown, FailOperation, Complete), so no execution may run on its own.
 */
const sfn = {
  refuseNext: false,
  async send(command: unknown) {
    if (command instanceof StartExecutionCommand) {
      if (this.refuseNext) {
        this.refuseNext = false;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return { executionArn: `arn:aws:states:eu-west-1:000000000000:execution:x:${command.input.name}` };
    }
    return {};
  },
};

/** ECS: local mode's simulated ECS, where no environment has a service (a teardown removed it) and no task stopped. */
const sim = simulatorFor();

// ---- the model -------------------------------------------------------------------------------

type Status = 'CREATING' | 'UPDATING' | 'RUNNING' | 'FAILED' | 'DELETING' | 'DELETED';
type Repository = (typeof REPOSITORIES)[number];

interface ModelEnv {
  repository: Repository;
  image: string;
  status: Status;
  /** while DELETING: whether its teardown runs or failed (a DELETE then starts another) */
  teardown?: 'running' | 'failed';
}

interface Model {
  envs: Map<string, ModelEnv>;
  /** teardown operations that ended (finished, failed, superseded): a retried step or a duplicate execution may run them again */
  endedTeardowns: { name: string; operationId: string }[];
}

interface Real {
  db: DynamoDbLocal;
}

const live = (m: Model) => [...m.envs.values()].filter((e) => e.status !== 'DELETED');
const liveIn = (m: Model, repository: string) => live(m).filter((e) => e.repository === repository).length;
const exists = (env: ModelEnv | undefined): env is ModelEnv => env !== undefined && env.status !== 'DELETED';

type Answer = { ok: CommandResult } | { error: unknown };
async function answer(action: () => Promise<CommandResult>): Promise<Answer> {
  try {
    return { ok: await action() };
  } catch (error) {
    return { error };
  }
}

/** what the runs exercised (printed at the end, so a too-easy run shows) */
const stats = { steps: 0, answers: {} as Record<string, number>, commands: {} as Record<string, number> };
const tally = (key: string) => { stats.answers[key] = (stats.answers[key] ?? 0) + 1; };

function expectDomainError(a: Answer, type: abstract new (...args: never[]) => DomainError, status: number): DomainError {
  expect('error' in a ? a.error : a.ok).toBeInstanceOf(type);
  const error = (a as { error: DomainError }).error;
  expect(error.status).toBe(status);
  tally(`${status}${error instanceof QuotaExceeded ? ` ${String(error.extensions.limit)}` : ''}`);
  return error;
}

/** A start Step Functions refused (throttled, as the stand-in refuses): a 503 AWS_LIMIT with Retry-After, never a 500. */
function expectRefusedStart(a: Answer): void {
  const error = expectDomainError(a, AwsThrottled, 503);
  expect(error.extensions).toMatchObject({ code: 'AWS_LIMIT' });
  expect(error.retryAfterSeconds).toBeGreaterThan(0);
}

function specBody(image: string, repository: Repository) {
  return { image, labels: repository ? { repository } : {} };
}

/**
 * What a create (PUT or POST of a free or DELETED name) must answer, given the quotas, and
 * what the model becomes: 429 naming the limit that is full, else created (CREATING, or
 * FAILED and a 503 when Step Functions refused (throttled) the start of the workflow).
 */
function expectCreate(m: Model, name: string, image: string, repository: Repository, a: Answer, refused: boolean): void {
  const total = live(m).length;
  if (total >= GLOBAL) {
    const error = expectDomainError(a, QuotaExceeded, 429);
    expect(error.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'global', max: GLOBAL, current: total });
    return;
  }
  if (repository && liveIn(m, repository) >= PER_REPOSITORY) {
    const error = expectDomainError(a, QuotaExceeded, 429);
    expect(error.extensions).toMatchObject({ limit: 'repository', max: PER_REPOSITORY, current: liveIn(m, repository), repository });
    return;
  }
  if (refused) {
    expectRefusedStart(a);
    m.envs.set(name, { repository, image, status: 'FAILED' });
    return;
  }
  expect('ok' in a && a.ok.outcome).toBe('created');
  expect((a as { ok: CommandResult }).ok.record.quotaCounters).toEqual(['total', ...(repository ? [`repo#${repository}`] : [])]);
  m.envs.set(name, { repository, image, status: 'CREATING' });
}

/** A spec change of a live environment that keeps its repository (changeSpec's rules). */
function expectChange(env: ModelEnv, image: string, a: Answer, refused: boolean): void {
  if (env.status === 'DELETING') {
    expectDomainError(a, Conflict, 409);
    return;
  }
  const unchanged = image === env.image;
  if (unchanged && env.status !== 'FAILED') {
    expect('ok' in a && a.ok.outcome).toBe('unchanged');
    return;
  }
  env.image = image;
  if (env.status === 'CREATING' || env.status === 'UPDATING') {
    expect('ok' in a && a.ok.outcome).toBe('recorded');
    return;
  }
  if (refused) {
    expectRefusedStart(a);
    env.status = 'FAILED';
    return;
  }
  expect('ok' in a && a.ok.outcome).toBe('started');
  env.status = 'UPDATING';
}

function expectRelabelRefused(a: Answer): void {
  const error = expectDomainError(a, ValidationFailed, 400) as ValidationFailed;
  expect(error.errors.map((e) => e.path)).toEqual(['labels.repository']);
}

// ---- reading the table -------------------------------------------------------------------------

async function scanAll(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamodbClient().send(new ScanCommand({ TableName: process.env.TABLE_NAME, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function wipe(): Promise<void> {
  const items = await scanAll();
  for (let i = 0; i < items.length; i += 25) {
    await dynamodbClient().send(new BatchWriteCommand({
      RequestItems: { [process.env.TABLE_NAME!]: items.slice(i, i + 25).map((it) => ({ DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } })) },
    }));
  }
}

async function counters(): Promise<Record<string, number>> {
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: 'COUNTER#live', sk: 'COUNTER' }, ConsistentRead: true }),
  );
  const { pk: _pk, sk: _sk, ...counts } = (Item ?? {}) as Record<string, number>;
  return counts;
}

async function environmentItem(name: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const { Item } = await dynamodbClient().send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' }, ConsistentRead: true }),
  );
  if (!Item) throw new Error(`no record of ${name}`);
  return Item;
}

/**
 * The property, after every step: each counter equals the number of live records it counts
 * (global: all; `repo#<r>`: those of labels.repository r), none is negative, none of a
 * repository is kept at 0 (the item holds only repositories with live environments), and the table
 * holds exactly the environments, statuses and repositories the model holds.
 */
async function checkInvariant(m: Model, step: QuotaCommand): Promise<void> {
  stats.steps++;
  stats.commands[step.constructor.name] = (stats.commands[step.constructor.name] ?? 0) + 1;
  const items = (await scanAll()).filter((it) => it.kind === 'ENVIRONMENT') as { name: string; status: Status; spec: { labels: { repository?: string } } }[];
  const liveItems = items.filter((it) => it.status !== 'DELETED');
  const counts = await counters();
  for (const value of Object.values(counts)) expect(value).toBeGreaterThanOrEqual(0);
  // the counter item holds only repositories with live environments (a released last one is
  // removed, not kept at 0), so it cannot grow with every repository ever seen
  for (const [counter, value] of Object.entries(counts)) if (counter.startsWith('repo#')) expect({ counter, value }).not.toEqual({ counter, value: 0 });
  expect(counts.total ?? 0).toBe(liveItems.length);
  const repositories = new Set([
    ...Object.keys(counts).filter((k) => k.startsWith('repo#')).map((k) => k.slice('repo#'.length)),
    ...liveItems.flatMap((it) => (it.spec.labels.repository ? [it.spec.labels.repository] : [])),
  ]);
  for (const repository of repositories) {
    expect({ repository, counted: counts[`repo#${repository}`] ?? 0 })
      .toEqual({ repository, counted: liveItems.filter((it) => it.spec.labels.repository === repository).length });
  }
  const table = Object.fromEntries(items.map((it) => [it.name, `${it.status} ${it.spec.labels.repository ?? '-'}`]));
  const model = Object.fromEntries([...m.envs].map(([name, e]) => [name, `${e.status} ${e.repository ?? '-'}`]));
  expect(table).toEqual(model);
}

// ---- the commands ------------------------------------------------------------------------------

type QuotaCommand = fc.AsyncCommand<Model, Real>;

class Put implements QuotaCommand {
  constructor(readonly name: string, readonly image: string, readonly repository: Repository, readonly refused: boolean) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    sfn.refuseNext = this.refused;
    const a = await answer(() => putEnvironment(this.name, parseSpec(specBody(this.image, this.repository), apiConfig()), caller));
    sfn.refuseNext = false;
    const env = m.envs.get(this.name);
    if (!exists(env)) expectCreate(m, this.name, this.image, this.repository, a, this.refused);
    else if (env.status === 'DELETING') expectDomainError(a, Conflict, 409);
    else if (env.repository !== this.repository) expectRelabelRefused(a);
    else expectChange(env, this.image, a, this.refused);
    await checkInvariant(m, this);
  }
  toString = () => `PUT ${this.name} ${this.image} repo=${this.repository ?? '-'}${this.refused ? ' (start refused)' : ''}`;
}

class Post implements QuotaCommand {
  constructor(readonly name: string, readonly repository: Repository) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const a = await answer(() => createEnvironment(this.name, parseSpec(specBody('web:1', this.repository), apiConfig()), caller));
    if (exists(m.envs.get(this.name))) expectDomainError(a, Conflict, 409);
    else expectCreate(m, this.name, 'web:1', this.repository, a, false);
    await checkInvariant(m, this);
  }
  toString = () => `POST ${this.name} repo=${this.repository ?? '-'}`;
}

/** A create whose record is then stripped of `quotaCounters`: what the table holds from before this change. */
class LegacyCreate implements QuotaCommand {
  constructor(readonly name: string, readonly repository: Repository) {}
  check = (m: Readonly<Model>) => !exists(m.envs.get(this.name));
  async run(m: Model): Promise<void> {
    const a = await answer(() => putEnvironment(this.name, parseSpec(specBody('web:1', this.repository), apiConfig()), caller));
    expectCreate(m, this.name, 'web:1', this.repository, a, false);
    if ('ok' in a) {
      await dynamodbClient().send(new UpdateCommand({
        TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${this.name}`, sk: 'ENV' }, UpdateExpression: 'REMOVE quotaCounters',
      }));
    }
    await checkInvariant(m, this);
  }
  toString = () => `LEGACY-CREATE ${this.name} repo=${this.repository ?? '-'}`;
}

/** PATCH: a new image, a labels.repository (a relabel attempt unless it is the same), or its removal. */
class Patch implements QuotaCommand {
  constructor(readonly name: string, readonly change: { image: string } | { repository: Repository | null }) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const body = 'image' in this.change ? { image: this.change.image } : { labels: { repository: this.change.repository ?? null } };
    const a = await answer(() => patchEnvironment(this.name, (current) => applyPatch(current, body, apiConfig()), caller));
    const env = m.envs.get(this.name);
    if (!env) expectDomainError(a, EnvironmentNotFound, 404);
    else if (env.status === 'DELETED' || env.status === 'DELETING') expectDomainError(a, Conflict, 409);
    else if ('image' in this.change) expectChange(env, this.change.image, a, false);
    else if ((this.change.repository ?? undefined) !== env.repository) expectRelabelRefused(a);
    else expectChange(env, env.image, a, false);
    await checkInvariant(m, this);
  }
  toString = () => `PATCH ${this.name} ${JSON.stringify(this.change)}`;
}

/** DELETE of a given name, or (a number) of one of the live environments. */
class Delete implements QuotaCommand {
  name: string;
  constructor(readonly target: string | number, readonly refused: boolean) {
    this.name = typeof target === 'string' ? target : '';
  }
  check = (m: Readonly<Model>) => typeof this.target === 'string' || liveNames(m).length > 0;
  async run(m: Model): Promise<void> {
    if (typeof this.target === 'number') this.name = pickOf(liveNames(m), this.target);
    sfn.refuseNext = this.refused;
    const before = m.envs.get(this.name)?.status === 'DELETING' ? (await environmentItem(this.name)).operation.id as string : undefined;
    const a = await answer(() => deleteEnvironment(this.name, caller));
    sfn.refuseNext = false;
    const env = m.envs.get(this.name);
    if (!env) expectDomainError(a, EnvironmentNotFound, 404);
    else if (env.status === 'DELETED') expect('ok' in a && a.ok.outcome).toBe('unchanged');
    else if (env.status === 'DELETING' && env.teardown === 'running') expect('ok' in a && a.ok.outcome).toBe('recorded');
    else {
      // a failed teardown is started again: the old one is over, though a late duplicate of it may still run
      if (before) m.endedTeardowns.push({ name: this.name, operationId: before });
      env.status = 'DELETING';
      if (this.refused) {
        expectRefusedStart(a);
        env.teardown = 'failed';
      } else {
        expect('ok' in a && a.ok.outcome).toBe('started');
        env.teardown = 'running';
      }
    }
    await checkInvariant(m, this);
  }
  toString = () => `DELETE ${typeof this.target === 'number' ? `#${this.target} (${this.name || '?'})` : this.name}${this.refused ? ' (start refused)' : ''}`;
}

/** Names whose teardown runs, and names whose create or update runs: the steps below pick one of them. */
const tearingDown = (m: Readonly<Model>) => [...m.envs].filter(([, e]) => e.status === 'DELETING' && e.teardown === 'running').map(([n]) => n);
const building = (m: Readonly<Model>) => [...m.envs].filter(([, e]) => e.status === 'CREATING' || e.status === 'UPDATING').map(([n]) => n);
const liveNames = (m: Readonly<Model>) => [...m.envs].filter(([, e]) => e.status !== 'DELETED').map(([n]) => n);
const pickOf = (names: string[], pick: number) => names[pick % names.length]!;

const teardownPayload = (name: string, operationId: string, item: Record<string, any>) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  workflow: 'teardown' as const,
  executionArn: `arn:aws:states:eu-west-1:000000000000:execution:fledge-teardown:${name}--${operationId}`,
  state: { name, operationId, specVersion: item.specVersion as number, spec: item.spec, actor: caller.actor },
});

/** The teardown workflow's last step (FinishTeardown), run once, or twice at once (a duplicate execution). */
class FinishTeardown implements QuotaCommand {
  name = '';
  constructor(readonly pick: number, readonly copies: 1 | 2) {}
  check = (m: Readonly<Model>) => tearingDown(m).length > 0;
  async run(m: Model): Promise<void> {
    this.name = pickOf(tearingDown(m), this.pick);
    const item = await environmentItem(this.name);
    const operationId = item.operation.id as string;
    const outcomes = await Promise.all(Array.from({ length: this.copies }, () => finishTeardown(teardownPayload(this.name, operationId, item))));
    expect(outcomes.map((o) => o.outcome)).toContain('succeeded');
    const env = m.envs.get(this.name)!;
    env.status = 'DELETED';
    delete env.teardown;
    m.endedTeardowns.push({ name: this.name, operationId });
    await checkInvariant(m, this);
  }
  toString = () => `FINISH-TEARDOWN #${this.pick} (${this.name || '?'})${this.copies === 2 ? ' x2 concurrently' : ''}`;
}

/** A teardown's step that already ended (finished, failed or superseded) runs again: it must change nothing. */
class RetryTeardown implements QuotaCommand {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.endedTeardowns.length > 0;
  async run(m: Model): Promise<void> {
    const { name, operationId } = m.endedTeardowns[this.pick % m.endedTeardowns.length]!;
    const item = await environmentItem(name);
    const result = await finishTeardown(teardownPayload(name, operationId, item));
    const stillThatOne = item.status === 'DELETED' && item.operation.id === operationId;
    expect(result.outcome).toBe(stillThatOne ? 'succeeded' : 'superseded');
    await checkInvariant(m, this);
  }
  toString = () => `RETRY-TEARDOWN #${this.pick}`;
}

/** FailOperation after compensation: a teardown stays DELETING (its op FAILED), a create or update ends FAILED and still counts. */
class FailOperation implements QuotaCommand {
  name = '';
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => [...building(m), ...tearingDown(m)].length > 0;
  async run(m: Model): Promise<void> {
    this.name = pickOf([...building(m), ...tearingDown(m)], this.pick);
    const item = await environmentItem(this.name);
    const workflow = item.operation.workflow as 'create' | 'update' | 'teardown';
    const result = await failOperation({
      workflow,
      executionArn: `arn:aws:states:eu-west-1:000000000000:execution:fledge-${workflow}:${this.name}--${item.operation.id}`,
      state: {
        name: this.name, operationId: item.operation.id, specVersion: item.specVersion, spec: item.spec, actor: caller.actor,
        error: { Error: 'ECS.ServiceException', Cause: 'the service could not be created' },
      },
    });
    expect(result.outcome).toBe('failed');
    const env = m.envs.get(this.name)!;
    if (env.status === 'DELETING') {
      env.teardown = 'failed';
      m.endedTeardowns.push({ name: this.name, operationId: item.operation.id });
    } else {
      env.status = 'FAILED';
    }
    await checkInvariant(m, this);
  }
  toString = () => `FAIL-OPERATION #${this.pick} (${this.name || '?'})`;
}

/** A create or update reaching steady state (CompleteOperation's write): RUNNING. */
class Complete implements QuotaCommand {
  name = '';
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => building(m).length > 0;
  async run(m: Model): Promise<void> {
    this.name = pickOf(building(m), this.pick);
    const item = await environmentItem(this.name);
    const done = await completeOperation({
      name: this.name, operationId: item.operation.id, specVersion: item.specVersion, status: 'RUNNING',
      url: `https://${this.name}.preview.example.com`, runningCount: 1, now: new Date().toISOString(), events: [],
    });
    expect(done).toBe(true);
    m.envs.get(this.name)!.status = 'RUNNING';
    await checkInvariant(m, this);
  }
  toString = () => `COMPLETE #${this.pick} (${this.name || '?'})`;
}

const name = fc.constantFrom(...NAMES);
const repository = fc.constantFrom(...REPOSITORIES);
const image = fc.constantFrom(...IMAGES);
const refused = fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const commands = fc.commands(
  [
    fc.tuple(name, image, repository, refused).map(([n, i, r, x]) => new Put(n, i, r, x)),
    fc.tuple(name, image, repository).map(([n, i, r]) => new Put(n, i, r, false)),
    fc.tuple(name, repository).map(([n, r]) => new Post(n, r)),
    fc.tuple(name, image, repository).map(([n, i, r]) => new Put(n, i, r, false)),
    fc.tuple(name, repository).map(([n, r]) => new LegacyCreate(n, r)),
    fc.tuple(name, image).map(([n, i]) => new Patch(n, { image: i })),
    fc.tuple(name, fc.oneof(repository, fc.constant(null))).map(([n, r]) => new Patch(n, { repository: r })),
    fc.tuple(name, refused).map(([n, x]) => new Delete(n, x)),
    fc.tuple(fc.nat(20), refused).map(([p, x]) => new Delete(p, x)),
    fc.tuple(fc.nat(20), refused).map(([p, x]) => new Delete(p, x)),
    fc.tuple(fc.nat(20), fc.constantFrom(1 as const, 2 as const)).map(([p, c]) => new FinishTeardown(p, c)),
    fc.tuple(fc.nat(20), fc.constantFrom(1 as const, 2 as const)).map(([p, c]) => new FinishTeardown(p, c)),
    fc.nat(20).map((p) => new RetryTeardown(p)),
    fc.nat(20).map((p) => new FailOperation(p)),
    fc.nat(20).map((p) => new Complete(p)),
  ],
  { maxCommands: MAX_STEPS, size: 'max', ...(REPLAY_PATH ? { replayPath: REPLAY_PATH } : {}) },
);

// ---- the world -----------------------------------------------------------------------------------

let db: DynamoDbLocal;
const saved = { ...process.env };

beforeAll(async () => {
  db = await startDynamoDbLocal('fledge-quota');
  Object.assign(process.env, {
    TABLE_NAME: db.tableName,
    FLEDGE_DYNAMODB_ENDPOINT: db.endpoint,
    ...taskRuntimeEnvironment(sim),
    FLEDGE_QUOTA_GLOBAL: String(GLOBAL),
    FLEDGE_QUOTA_PER_REPOSITORY: String(PER_REPOSITORY),
    FLEDGE_CREATE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:fledge-create',
    FLEDGE_UPDATE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:fledge-update',
    FLEDGE_TEARDOWN_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:fledge-teardown',
    FLEDGE_SCALE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:fledge-scale',
  });
  resetConfig();
  resetClients();
  useClients({ sfn, ecs: sim.client('ecs') });
});

afterAll(async () => {
  resetClients();
  sim.stop();
  await db?.stop();
  process.env = saved;
  resetConfig();
});

// ---- examples: records from before this change, and counters that already drifted ---------------

/** Creates `name` and takes it to DELETING with its teardown running; returns the teardown's payload. */
async function createdThenDeleting(name: string, repo: string | undefined): Promise<ReturnType<typeof teardownPayload>> {
  await putEnvironment(name, parseSpec(specBody('web:1', repo as Repository), apiConfig()), caller);
  await deleteEnvironment(name, caller);
  const item = await environmentItem(name);
  return teardownPayload(name, item.operation.id, item);
}

const setItem = (name: string, expression: string, values: Record<string, unknown>) =>
  dynamodbClient().send(new UpdateCommand({
    TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' }, UpdateExpression: expression,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  }));

describe('releasing the quota counters', () => {
  it('releases what the environment was counted in at create, not its current labels (a label changed behind the API)', async () => {
    await wipe();
    const payload = await createdThenDeleting('ex-moved', 'acme/a');
    expect(await counters()).toEqual({ total: 1, 'repo#acme/a': 1 });
    await setItem('ex-moved', 'SET spec.labels.repository = :b', { ':b': 'acme/b' });
    expect((await finishTeardown(payload)).outcome).toBe('succeeded');
    // acme/a's last live environment is gone: its counter is removed, not kept at 0
    expect(await counters()).toEqual({ total: 0 });
  });

  it('falls back to labels.repository for a record written before quotaCounters existed', async () => {
    await wipe();
    const payload = await createdThenDeleting('ex-legacy', 'acme/a');
    await setItem('ex-legacy', 'REMOVE quotaCounters', {});
    expect((await finishTeardown(payload)).outcome).toBe('succeeded');
    expect(await counters()).toEqual({ total: 0 });
  });

  it('still releases the global counter when the repository counter is missing (a legacy record an old PUT relabelled), and none goes negative', async () => {
    await wipe();
    await createdThenDeleting('ex-other', 'acme/a');
    const payload = await createdThenDeleting('ex-relabelled', 'acme/a');
    // before this change a PUT could move the record to acme/b, whose counter never counted it
    await setItem('ex-relabelled', 'SET spec.labels.repository = :b REMOVE quotaCounters', { ':b': 'acme/b' });
    expect(await counters()).toEqual({ total: 2, 'repo#acme/a': 2 });
    expect((await finishTeardown(payload)).outcome).toBe('succeeded');
    expect((await environmentItem('ex-relabelled')).status).toBe('DELETED');
    // the global counter is released; acme/b has no counter to take from, and gets none
    expect(await counters()).toEqual({ total: 1, 'repo#acme/a': 2 });
  });

  it('records DELETED and releases nothing below zero when the counters are missing altogether', async () => {
    await wipe();
    const payload = await createdThenDeleting('ex-uncounted', 'acme/a');
    await dynamodbClient().send(new UpdateCommand({
      TableName: process.env.TABLE_NAME, Key: { pk: 'COUNTER#live', sk: 'COUNTER' }, UpdateExpression: 'SET #t = :zero REMOVE #r',
      ExpressionAttributeNames: { '#t': 'total', '#r': 'repo#acme/a' }, ExpressionAttributeValues: { ':zero': 0 },
    }));
    expect((await finishTeardown(payload)).outcome).toBe('succeeded');
    expect((await environmentItem('ex-uncounted')).status).toBe('DELETED');
    expect(await counters()).toEqual({ total: 0 });
  });

  it('releases once when the same teardown step runs twice, one after the other or at once', async () => {
    await wipe();
    const one = await createdThenDeleting('ex-twice', 'acme/a');
    const two = await createdThenDeleting('ex-duplicate', 'acme/a');
    await putEnvironment('ex-kept', parseSpec(specBody('web:1', 'acme/b'), apiConfig()), caller);
    expect(await counters()).toEqual({ total: 3, 'repo#acme/a': 2, 'repo#acme/b': 1 });
    expect((await finishTeardown(one)).outcome).toBe('succeeded');
    expect((await finishTeardown(one)).outcome).toBe('succeeded');
    const outcomes = await Promise.all([finishTeardown(two), finishTeardown(two)]);
    expect(outcomes.map((o) => o.outcome)).toContain('succeeded');
    expect(await counters()).toEqual({ total: 1, 'repo#acme/b': 1 });
  });
});

// ---- the property --------------------------------------------------------------------------------

describe('quota counters under random sequences of commands (model-based)', () => {
  it('each counter equals the live records it counts after every step, and every answer is the one the model expects', async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        await wipe();
        sfn.refuseNext = false;
        await fc.asyncModelRun(() => ({ model: { envs: new Map(), endedTeardowns: [] } satisfies Model, real: { db } satisfies Real }), cmds);
      }),
      { numRuns: RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}), endOnFailure: false, verbose: 1 },
    );
    console.log(`quota model: ${RUNS} runs, ${stats.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; refusals ${JSON.stringify(stats.answers)}; steps ${JSON.stringify(stats.commands)}`);
  }, 240_000);
});
