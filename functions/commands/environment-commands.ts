/**
 * What each mutating request does to an environment (README "Using the API"): decide from the current
 * record, write conditionally, then start (or stop) the workflow. Handlers call these and
 * map the outcome to HTTP; the rules live here, once.
 */
import { apiConfig, runtimeConfig } from '#runtime/config.ts';
import { getEnvironment, insertEnvironment, replaceEnvironment } from '#adapters/environment-store.ts';
import { stopWorkflow, type WorkflowKind } from '#adapters/workflow-starter.ts';
import { expiresAtFor, sameSpec, type EnvironmentRecord } from '#domain/environment.ts';
import { environmentEvent } from '#domain/events.ts';
import type { EnvironmentSpec } from '#domain/environment-spec.ts';
import { creationRepository, maySee, type Principal } from '#domain/caller.ts';
import { checkOwnership } from '#domain/spec-validation.ts';
import { Conflict, EnvironmentNotFound, PreconditionFailed, ValidationFailed } from '#domain/errors.ts';
import { acceptsSpecChanges, hasOperationInFlight, retriesOnSameSpec } from '#domain/lifecycle.ts';
import { needsScaleWorkflow, sleptFromCountFor, wokenSpec } from '#domain/scaling.ts';
import { renderTaskDefinition } from '#domain/resource-plan.ts';
import { taskDefinitionSizeProblem } from '#domain/task-definition-size.ts';
import { decidedOnFreshRead } from './fresh-read.ts';
import { launch, newOperation } from './launch.ts';

export interface Caller {
  actor: string;
  requestId: string;
}

/**
 * A caller of the API's commands: its principal decides what it may see (caller.ts). Another
 * repository's environment is reported exactly like an unknown name (404), before any other
 * check (If-Match included), so an answer never hints that it exists.
 */
export interface TenantCaller extends Caller {
  principal: Principal;
}

/** The control plane's own callers (waker, idle sleep, cleanup) act on any repository's environment. */
export function systemCaller(caller: Caller): TenantCaller {
  return { ...caller, principal: { kind: 'operator', actor: caller.actor } };
}

/** The current record as this caller may know it: undefined when it belongs to another repository. */
export function visibleTo(caller: TenantCaller, record: EnvironmentRecord | undefined): EnvironmentRecord | undefined {
  return record && maySee(caller.principal, record.spec.labels.repository) ? record : undefined;
}

/** The environment `name` if this caller may see it, else the same 404 as for an unknown name. */
export function visibleOrNotFound(caller: TenantCaller, name: string, record: EnvironmentRecord | undefined): EnvironmentRecord {
  const visible = visibleTo(caller, record);
  if (!visible) throw new EnvironmentNotFound(name);
  return visible;
}

/**
 * The spec a caller may write: `labels.repository` must be one of its repositories (a
 * repository caller that acts for one may leave it out: it is filled in). Operators write any.
 */
export function specForCaller(caller: TenantCaller, spec: EnvironmentSpec): EnvironmentSpec {
  const decision = creationRepository(caller.principal, spec.labels.repository);
  if (!decision.ok) throw new ValidationFailed('labels.repository does not name a repository of this caller', [{ path: 'labels.repository', message: decision.message }]);
  const settled = decision.repository === spec.labels.repository ? spec : { ...spec, labels: { ...spec.labels, repository: decision.repository! } };
  return checkTaskDefinitionSize(checkOwnership(settled, apiConfig().secretScope));
}

/**
 * ECS refuses a task definition over 64 KiB at RegisterTaskDefinition (functions/domain/task-definition-size.ts):
 * the spec is rendered here, with the repository settled (it picks the execution role), so such a spec is a 400, not a 201 that fails later.
 */
function checkTaskDefinitionSize(spec: EnvironmentSpec): EnvironmentSpec {
  const problem = taskDefinitionSizeProblem(renderTaskDefinition(spec, runtimeConfig()));
  if (problem) throw new ValidationFailed(`the environment spec is invalid: ${problem}`, [{ path: 'environment', message: problem }]);
  return spec;
}

/** A live environment of another repository holds this name: all the caller learns is that the name is taken. */
function nameTaken(name: string): Conflict {
  return new Conflict(`the name "${name}" is taken; environment names are global (they are DNS names), choose another`);
}

/** created = 201, started/recorded = 202 (accepted), unchanged = 200 */
export type Outcome = 'created' | 'started' | 'recorded' | 'unchanged';

export interface CommandResult {
  outcome: Outcome;
  record: EnvironmentRecord;
}

export function checkIfMatch(ifMatch: string | undefined, record: EnvironmentRecord | undefined): void {
  if (ifMatch === undefined || ifMatch === '*' && record) return;
  if (!record || String(record.version) !== ifMatch) throw new PreconditionFailed(`"${ifMatch}"`, record?.version);
}

/** A create, update or teardown whose workflow cannot start leaves the environment FAILED (a teardown stays DELETING). */
const failedUnlessTeardown = (stored: EnvironmentRecord): EnvironmentRecord =>
  ({ ...stored, status: stored.operation?.workflow === 'teardown' ? stored.status : 'FAILED' });

async function create(name: string, spec: EnvironmentSpec, caller: Caller, deleted?: EnvironmentRecord): Promise<CommandResult> {
  const config = apiConfig();
  const now = new Date();
  const version = (deleted?.version ?? 0) + 1;
  const operation = newOperation('create', 'create', name, version, now.toISOString());
  const record: EnvironmentRecord = {
    name,
    spec,
    specVersion: 1,
    status: 'CREATING',
    version,
    runningCount: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: expiresAtFor(spec, now),
    operation,
  };
  const write = (record: EnvironmentRecord) => insertEnvironment(
    record,
    [environmentEvent({ type: 'create-requested', message: `create requested: image ${spec.image}`, actor: caller.actor, operationId: operation.id })],
    { global: config.quotaGlobal, perRepository: config.quotaPerRepository },
    deleted?.version,
  );
  return { outcome: 'created', record: await launch({ record, write, undo: failedUnlessTeardown }, caller) };
}

/**
 * Accepts a new desired spec for an existing live environment (README "Using the API", "latest
 * accepted spec wins"); `asked` is the spec as the caller asked for it, before its repository was
 * filled in (a PATCH), whose `labels.repository` must be the current one.
 */
async function changeSpec(current: EnvironmentRecord, requested: EnvironmentSpec, caller: Caller, asked: EnvironmentSpec = requested): Promise<CommandResult> {
  if (!acceptsSpecChanges(current.status)) {
    throw new Conflict(`environment "${current.name}" is ${current.status}; its spec can no longer change`);
  }
  checkRepositoryKept(current, asked);
  const unchanged = sameSpec(current.spec, requested);
  if (unchanged && !retriesOnSameSpec(current.status)) return { outcome: 'unchanged', record: current };
  // a spec change wakes a sleeping environment, back to its previous count (README "Using the API")
  const spec = unchanged ? requested : wokenSpec(current, requested);

  const now = new Date();
  const specVersion = unchanged ? current.specVersion : current.specVersion + 1;
  const base = {
    ...current, spec, specVersion, version: current.version + 1, updatedAt: now.toISOString(), expiresAt: expiresAtFor(spec, now),
    sleptFromCount: sleptFromCountFor(current, spec),
  };

  if (hasOperationInFlight(current.status)) {
    const record: EnvironmentRecord = base;
    await replaceEnvironment(record, current.version, [
      environmentEvent({ type: 'spec-recorded', message: `spec v${specVersion} recorded (image ${spec.image}); the running ${current.operation?.type ?? ''} operation will converge to it`, actor: caller.actor, operationId: current.operation?.id }),
    ]);
    return { outcome: 'recorded', record };
  }

  // An environment whose create failed has nothing left to update: it is built again.
  // Sleep, wake and autoscaling changes need the scale workflow (listener rule, scaling target).
  const workflow: WorkflowKind = current.appliedSpecVersion === undefined ? 'create' : needsScaleWorkflow(current, spec) ? 'scale' : 'update';
  const operation = newOperation('update', workflow, current.name, base.version, now.toISOString());
  const record: EnvironmentRecord = { ...base, status: 'UPDATING', operation };
  const type = unchanged ? 'retry-requested' : 'update-requested';
  const message = unchanged ? `retry requested from ${current.status} with the same spec` : `update requested: image ${spec.image}`;
  const write = (next: EnvironmentRecord) =>
    replaceEnvironment(next, current.version, [environmentEvent({ type: type, message: message, actor: caller.actor, operationId: operation.id })]);
  return { outcome: 'started', record: await launch({ record, write, undo: failedUnlessTeardown }, caller) };
}

/**
 * `labels.repository` is fixed at create (README "Expiry, cleanup and quotas"): the
 * environment was counted under it, and it says whose environment it is. Changing it,
 * removing it (a PATCH `labels: {repository: null}`, an operator's PUT without it; a repository
 * caller's PUT without it gets its repository filled in, as at create), or adding one to an
 * environment created without one is a 400 naming the field, and changes nothing (a DELETING environment's spec cannot change at
 * all: 409 first). A PUT of a DELETED name creates anew and may name any repository.
 */
function checkRepositoryKept(current: EnvironmentRecord, requested: EnvironmentSpec): void {
  const fixed = current.spec.labels.repository;
  const asked = requested.labels.repository;
  if (asked === fixed) return;
  const message =
    fixed === undefined
      ? 'the environment was created without a repository; one cannot be added later'
      : `is fixed at create ("${fixed}") and cannot ${asked === undefined ? 'be removed' : 'change'}`;
  throw new ValidationFailed(
    `labels.repository of environment "${current.name}" is fixed at create; delete the environment and create it anew to use another repository`,
    [{ path: 'labels.repository', message }],
  );
}

/** PUT /v1/environments/{name}: create-or-update to the given spec. */
export async function putEnvironment(name: string, spec: EnvironmentSpec, caller: TenantCaller, ifMatch?: string): Promise<CommandResult> {
  const allowed = specForCaller(caller, spec);
  return decidedOnFreshRead(ifMatch, () => decidePut(name, allowed, caller, ifMatch));
}

async function decidePut(name: string, spec: EnvironmentSpec, caller: TenantCaller, ifMatch?: string): Promise<CommandResult> {
  const current = await getEnvironment(name);
  const visible = visibleTo(caller, current);
  // another repository's live environment: the name is taken (nothing else about it is told)
  if (current && !visible && current.status !== 'DELETED') throw nameTaken(name);
  checkIfMatch(ifMatch, visible);
  if (!current || current.status === 'DELETED') return create(name, spec, caller, current);
  return changeSpec(current, spec, caller);
}

/** POST /v1/environments: create only. */
export async function createEnvironment(name: string, spec: EnvironmentSpec, caller: TenantCaller): Promise<CommandResult> {
  const allowed = specForCaller(caller, spec);
  const current = await getEnvironment(name);
  if (current && current.status !== 'DELETED') {
    if (!visibleTo(caller, current)) throw nameTaken(name);
    throw new Conflict(`an environment named "${name}" already exists (status ${current.status}); use PUT to change it`);
  }
  return create(name, allowed, caller, current);
}

/** PATCH /v1/environments/{name}: `patch` turns the current spec into the new one. */
export async function patchEnvironment(
  name: string,
  patch: (current: EnvironmentSpec) => EnvironmentSpec,
  caller: TenantCaller,
  ifMatch?: string,
): Promise<CommandResult> {
  return decidedOnFreshRead(ifMatch, () => decidePatch(name, patch, caller, ifMatch));
}

async function decidePatch(
  name: string,
  patch: (current: EnvironmentSpec) => EnvironmentSpec,
  caller: TenantCaller,
  ifMatch?: string,
): Promise<CommandResult> {
  const current = visibleOrNotFound(caller, name, await getEnvironment(name));
  checkIfMatch(ifMatch, current);
  if (current.status === 'DELETED') throw new Conflict(`environment "${name}" is deleted; PUT it to create it anew`);
  // the repository is checked on the patched spec as asked, before specForCaller fills in a
  // repository caller's one repository: `labels: {repository: null}` is a 400, not a no-op
  const patched = patch(current.spec);
  return changeSpec(current, specForCaller(caller, patched), caller, patched);
}

/**
 * DELETE /v1/environments/{name}: stops whatever runs and tears the environment down. A
 * teardown that failed (the environment stays DELETING) is started again. `reason` is added
 * to the event (the scheduled cleanup says why it tears an environment down).
 */
export async function deleteEnvironment(name: string, caller: TenantCaller, ifMatch?: string, reason?: string): Promise<CommandResult> {
  return decidedOnFreshRead(ifMatch, () => decideDelete(name, caller, ifMatch, reason));
}

async function decideDelete(name: string, caller: TenantCaller, ifMatch?: string, reason?: string): Promise<CommandResult> {
  const current = visibleOrNotFound(caller, name, await getEnvironment(name));
  checkIfMatch(ifMatch, current);
  if (current.status === 'DELETED') return { outcome: 'unchanged', record: current };
  const failedTeardown = current.operation?.type === 'teardown' && current.operation.status === 'FAILED';
  if (current.status === 'DELETING' && !failedTeardown) return { outcome: 'recorded', record: current };

  const now = new Date().toISOString();
  const running = hasOperationInFlight(current.status) && current.operation?.status === 'RUNNING' ? current.operation : undefined;
  const version = current.version + 1;
  const operation = newOperation('teardown', 'teardown', name, version, now);
  const record: EnvironmentRecord = { ...current, status: 'DELETING', version, updatedAt: now, operation };
  const what = current.status === 'DELETING' ? 'teardown retried after a failed one' : 'teardown requested';
  const events = [environmentEvent({ type: 'delete-requested', message: reason ? `${what}: ${reason}` : what, actor: caller.actor, operationId: operation.id })];
  if (running) {
    events.unshift(environmentEvent({ type: 'operation-superseded', message: `the running ${running.type} operation is stopped by a delete`, actor: caller.actor, operationId: running.id }));
  }
  const write = async (next: EnvironmentRecord) => {
    await replaceEnvironment(next, current.version, events);
    if (running?.workflow && running.executionName) {
      await stopWorkflow(running.workflow, running.executionName, `superseded by teardown ${operation.id}`);
    }
  };
  return { outcome: 'started', record: await launch({ record, write, undo: failedUnlessTeardown }, caller) };
}
