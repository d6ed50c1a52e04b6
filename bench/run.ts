/**
 * `npm run bench`: what the control plane costs and how close it gets to AWS's limits,
 * measured against local mode (started here, in memory). Prints one JSON object and writes
 * it to bench/results.json (or FLEDGE_BENCH_OUTPUT). FLEDGE_BENCH_SMOKE=1 runs every section at a tiny scale (the
 * smoke test uses it so the benchmark cannot rot); figures are never asserted anywhere.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startLocalServer, type LocalServer } from '../test/e2e/local-server.ts';
import { routes } from '../functions/contract/routes.ts';
import { LocalClient, inParallel } from './local-client.ts';
import { measureBundles } from './bundles.ts';
import { round, summary } from './stats.ts';
import { STARTED_WORKFLOW_KINDS } from '../functions/contract/workflows.ts';
import { apiBound, ratio, seedEnvironmentRecords, shardsFor } from './pool.ts';

const SMOKE = process.env.FLEDGE_BENCH_SMOKE === '1';
/**
 * `FLEDGE_BENCH_ONLY=pool` runs the pool section alone (`FLEDGE_BENCH_POOL_RUNS` times, default
 * five: its runs take minutes each); `FLEDGE_BENCH_ONLY=api` the API section alone.
 */
const ONLY = process.env.FLEDGE_BENCH_ONLY;
const ONLY_POOL = ONLY === 'pool';
const POOL_RUNS = Number(process.env.FLEDGE_BENCH_POOL_RUNS ?? '5');
/**
 * Every figure runs at AWS's default limits, none raised: one ALB holds 100 target groups (not
 * adjustable) and 100 rules, so one shard holds 99 environments; 1,000 environments take a pool
 * of 11 load balancers (50 per Region by default), each environment with its own DNS record.
 * `pool`: 1,000 creates at once through the pool, five runs, against the binding API bound.
 * `api`: reads with 1,000 environments present, then with 10,000 environment records in the table.
 */
const SCALE = SMOKE
  ? { creates: 3, concurrent: 6, listSize: 30, seededRecords: 70, pool: { environments: 6, runs: 1, inFlight: 6, minShards: 2 }, samples: 20, transitionsRuns: 1 }
  : { creates: 20, concurrent: 99, listSize: 1000, seededRecords: 9000, pool: { environments: 1000, runs: POOL_RUNS, inFlight: 100, minShards: 1 }, samples: 300, transitionsRuns: 3 };
const PRICE_PER_TRANSITION = 0.025 / 1000;
const spec = (image = 'ghcr.io/acme/web:1.0', repository = 'acme/web') => ({ image, labels: { repository } });
const hasRoute = (handler: string) => routes.some((r) => r.handler === handler);

async function withServer<T>(env: Record<string, string>, work: (client: LocalClient, server: LocalServer) => Promise<T>): Promise<T> {
  const server = await startLocalServer({ POWERTOOLS_LOG_LEVEL: 'ERROR', FLEDGE_LOG_LEVEL: 'ERROR', ...env }, 120_000);
  try {
    return await work(new LocalClient(server), server);
  } finally {
    await server.stop();
  }
}

/** create overhead: simulated service steady -> RUNNING visible through the API */
async function measureCreates(client: LocalClient) {
  const overhead: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < SCALE.creates; i++) {
    const name = `overhead-${i}`;
    const started = Date.now();
    const answer = await client.put(name, spec());
    if (answer.status !== 201) throw new Error(`create ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
    const { seenAt } = await client.waitFor(name, ['RUNNING']);
    const service = (await client.resources()).services.find((s: { name: string }) => s.name === name);
    if (!service?.steadyAt) throw new Error(`the simulator recorded no steady state for ${name}`);
    overhead.push(seenAt - Date.parse(service.steadyAt));
    total.push(seenAt - started);
  }
  return { createOverheadMs: summary(overhead), createTotalMs: summary(total) };
}

/**
 * What the waits' poll costs on AWS, which the runs here (tasks that start at once, a 2 s poll)
 * cannot show: a wait for steady state (AwaitSteadyState, AwaitSteadyStateAfterConverging) is a
 * waitForTaskToken state whose TimeoutSeconds is the poll interval, 30 s on AWS
 * (docs/design.md "Waiting for steady state"). While the deployment runs, the state times out
 * every 30 s whether or not the event will come, and each time its Retry enters it again: one more
 * transition, billed as one ("each retry will be charged as an additional state transition":
 * AWS Step Functions pricing).
 */
const AWS_POLL_SECONDS = 30;
const awsPollCost = {
  pollIntervalSeconds: AWS_POLL_SECONDS,
  transitionsPerPoll: 1,
  transitionsPerWaitMinute: 60 / AWS_POLL_SECONDS,
  note:
    `measured here with tasks that start at once and a 2 s poll, so a wait rarely polls before its event; on AWS a wait adds one transition ` +
    `per ${AWS_POLL_SECONDS} s its deployment runs, event or not: a Fargate create or update of 1-3 minutes adds 2-6 transitions per wait ` +
    '(create, update and scale have one wait a run, a heal one when it redeploys; transitionsRealisticStart is a run at the same ratio of task start to poll)',
};

/** a wait state's retries: each is one poll that found the deployment not done yet */
const WAIT_STATE = /^AwaitSteadyState/;

/** state transitions per workflow run, from the local executor's own count */
async function measureTransitions(client: LocalClient, runs = SCALE.transitionsRuns) {
  const names = Array.from({ length: runs }, (_, i) => `transitions-${i}`);
  for (const name of names) {
    await client.put(name, spec());
    await client.waitFor(name, ['RUNNING']);
  }
  for (const name of names) {
    await client.put(name, spec('ghcr.io/acme/web:2.0'));
    await client.waitFor(name, ['RUNNING']);
  }
  if (hasRoute('scale-environment')) {
    for (const name of names) {
      await client.request('POST', `/v1/environments/${name}/scale`, { desiredCount: 2 });
      await client.waitFor(name, ['RUNNING']);
    }
  }
  if (hasRoute('heal-environment')) {
    for (const name of names) {
      await client.request('POST', `/v1/environments/${name}/heal`, {});
      await client.waitFor(name, ['RUNNING']);
    }
  }
  for (const name of names) {
    await client.request('DELETE', `/v1/environments/${name}`);
    await client.waitFor(name, ['DELETED']);
  }
  // an environment reads DELETED before its teardown's last state (FinishTeardown) has returned
  const ours = async () => (await client.executions()).filter((e) => names.some((n) => e.name.startsWith(`${n}--`)));
  const settleBy = Date.now() + 30_000;
  while ((await ours()).some((e) => e.status === 'RUNNING') && Date.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 100));
  const all = await ours();
  const executions = all.filter((e) => e.status === 'SUCCEEDED');
  const unsuccessful = all.filter((e) => e.status !== 'SUCCEEDED').map((e) => `${e.kind} ${e.name}: ${e.status}`);
  const byKind: Record<string, { runs: number; perRun: number; max: number; waitPollsPerRun: number; costPerMillionRunsUsd: number }> = {};
  for (const kind of STARTED_WORKFLOW_KINDS) {
    const ofKind = executions.filter((e) => e.kind === kind);
    const counts = ofKind.map((e) => e.stateTransitions);
    if (counts.length === 0) continue;
    const perRun = counts.reduce((a, b) => a + b, 0) / counts.length;
    const polls = ofKind.map((e) => Object.entries(e.retries ?? {}).filter(([state]) => WAIT_STATE.test(state)).reduce((a, [, n]) => a + n, 0));
    byKind[kind] = {
      runs: counts.length, perRun: round(perRun), max: Math.max(...counts),
      waitPollsPerRun: round(polls.reduce((a, b) => a + b, 0) / polls.length),
      costPerMillionRunsUsd: round(perRun * PRICE_PER_TRANSITION * 1e6, 2),
    };
  }
  return {
    ...byKind,
    pricePerTransitionUsd: PRICE_PER_TRANSITION,
    notMeasured: STARTED_WORKFLOW_KINDS.filter((k) => !byKind[k]),
    ...(unsuccessful.length ? { unsuccessful } : {}),
  };
}

/**
 * API latency from a loopback client with `size` environments created through the API; then,
 * with `seed`, again with `seed.records` more environment records written straight to the table.
 */
async function measureApi(client: LocalClient, size: number, elbLimits: string, seed?: { endpoint: string; table: string; records: number }, prefix = 'api') {
  const seeded = Array.from({ length: size }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  // 100 repositories, each under the default 20 environments per repository
  const repositoryOf = (name: string) => `acme/repo-${name.slice(-2)}`;
  const createMs = await inParallel(seeded, 16, async (name) => {
    const answer = await client.put(name, spec('ghcr.io/acme/web:1.0', repositoryOf(name)));
    if (answer.status !== 201) throw new Error(`seed ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.ms;
  });
  // Measure the API, not its contention with 1,000 workflows: wait until every execution has ended.
  const settled = await client.waitForNoRunningExecutions();
  const sample = (i: number) => seeded[(i * 7919) % seeded.length]!;
  const reads = async (records: number) => {
    const getMs: number[] = [];
    const listMs: number[] = [];
    const list100Ms: number[] = [];
    const putMs: number[] = [];
    for (let i = 0; i < SCALE.samples; i++) getMs.push((await client.get(sample(i))).ms);
    for (let i = 0; i < SCALE.samples; i++) listMs.push((await client.request('GET', '/v1/environments')).ms);
    for (let i = 0; i < SCALE.samples; i++) list100Ms.push((await client.request('GET', '/v1/environments?limit=100')).ms);
    for (let i = 0; i < SCALE.samples; i++) {
      const name = sample(i);
      putMs.push((await client.put(name, spec('ghcr.io/acme/web:1.0', repositoryOf(name)))).ms);
    }
    return { environmentRecords: records, getOneMs: summary(getMs), listMs: summary(listMs), listLimit100Ms: summary(list100Ms), putUnchangedMs: summary(putMs) };
  };
  const present = await reads(size);
  const result: Record<string, unknown> = {
    environmentsPresent: seeded.length,
    elbLimits,
    simulatorPace: 'health checks every 10 s, alarm period 60 s',
    seededStatuses: settled,
    ...present,
    putCreateMs: summary(createMs),
  };
  if (seed) {
    await seedEnvironmentRecords(seed.endpoint, seed.table, seeded[0]!, seed.records);
    result.withSeededRecords = { seededStraightToTheTable: seed.records, ...(await reads(size + seed.records)) };
  }
  return result;
}

/** N creates at once (at most `inFlight` requests at a time) with the simulator's AWS rate limits on, over a pool of `shards` */
async function measureConcurrentCreates(client: LocalClient, count: number, elbLimits: string, prefix = 'burst', inFlight = count, shards = 1) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  const started = Date.now();
  const answers = await inParallel(names, inFlight, (name) => client.put(name, spec('ghcr.io/acme/web:1.0', `acme/repo-${name.slice(-2)}`)));
  const putsAnsweredMs = Date.now() - started;
  const rejected = answers.filter((a) => a.status !== 201).length;
  // watched through LIST: 200 pollers of GET every 250 ms would load the 2 cores the control plane runs on
  const seen = await client.waitForAll(names.filter((_, i) => answers[i]!.status === 201), ['RUNNING', 'FAILED'], 900_000, 250);
  const outcomes = [...seen.values()];
  const wallMs = Math.max(...outcomes.map((o) => o.seenAt)) - started;
  const failed = [...seen].filter(([, o]) => o.status === 'FAILED').map(([name]) => name);
  const failures = rejected + failed.length;
  // why: the failed operations' codes and messages, counted (a sample of 20 read back)
  const failureReasons: Record<string, number> = {};
  for (const name of failed.slice(0, 20)) {
    const error = (await client.get(name)).body?.operation?.error as { code?: string; message?: string } | undefined;
    const reason = `${error?.code ?? 'unknown'}: ${error?.message ?? ''}`;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  }
  for (const answer of answers.filter((a) => a.status !== 201).slice(0, 20)) {
    const reason = `PUT ${answer.status}: ${String(answer.body?.detail ?? '')}`;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  }
  const resources = await client.resources();
  // priorities are unique per listener: one listener per shard
  const rules = (resources.listenerRules ?? []) as { priority: number | string; shard?: string }[];
  const priorities = rules.map((r) => `${r.shard ?? 's1'}:${r.priority}`);
  const taskDefinitions = (resources.taskDefinitions ?? []) as { family: string }[];
  const creates = (await client.executions()).filter((e) => e.kind === 'create' && names.some((n) => e.name.startsWith(`${n}--`)));
  const transitions = creates.map((e) => e.stateTransitions);
  // where the failed creates failed: the state entered just before the compensation began
  const failedAt: Record<string, number> = {};
  for (const execution of creates.filter((e) => failed.some((n) => e.name.startsWith(`${n}--`)))) {
    const entered = execution.statesEntered ?? [];
    const undo = entered.indexOf('UndoCreatedResources');
    const state = undo > 0 ? entered[undo - 1]! : (entered.at(-1) ?? 'unknown');
    failedAt[state] = (failedAt[state] ?? 0) + 1;
  }
  // ECS CreateService (a bucket of 50, refilled at 5 a second) and, with more than one shard, Route 53's 5 a second
  const apiBounds = apiBound(names.length, shards);
  // ECS RegisterTaskDefinition: a bucket of 20, refilled at 1 a second, once per distinct definition
  // (content-addressed: creates of one content share one). It binds when the creates register more
  // than CreateService's bucket passes in the same time (99 distinct families: 79 s against 9.8 s).
  const families = new Set(taskDefinitions.map((t) => t.family)).size;
  const registerBoundMs = Math.max(0, families - 20) * 1000;
  const bound = registerBoundMs > apiBounds.bindingMs ? { ...apiBounds, bindingMs: registerBoundMs, binding: 'ecs:RegisterTaskDefinition' as const } : apiBounds;
  return {
    environments: names.length,
    shards,
    inFlight,
    wallMs,
    createServiceBoundMs: bound.createServiceMs,
    ratioToCreateServiceBound: ratio(wallMs, bound.createServiceMs),
    bound,
    ratioToBound: ratio(wallMs, bound.bindingMs),
    registerTaskDefinitionBoundMs: registerBoundMs,
    failures,
    ...(failures > 0 ? { failureReasons, failedAt } : {}),
    duplicateListenerPriorities: priorities.length - new Set(priorities).size,
    putsAnsweredMs,
    // content-addressed task definitions (docs/design.md): one definition, registered a few times at most
    taskDefinitionRevisions: taskDefinitions.length,
    taskDefinitionFamilies: families,
    createTransitions: summary(transitions),
    environmentsPerShard: Object.fromEntries(((resources.shards ?? []) as { id: string; rules: number }[]).map((s) => [s.id, s.rules])),
    elbLimits,
  };
}

/** SCALE.pool.environments creates at once through a pool sized for them, SCALE.pool.runs times, each on a fresh installation */
async function measurePool(env: Record<string, string>) {
  const { environments, runs: count, inFlight, minShards } = SCALE.pool;
  const shards = Math.max(minShards, shardsFor(environments));
  const label = `AWS defaults: ${shards} ALBs of 100 target groups and 100 rules (not raised), AWS API rates`;
  const runs: Awaited<ReturnType<typeof measureConcurrentCreates>>[] = [];
  for (let run = 1; run <= count; run++) {
    await withServer({ ...env, FLEDGE_SIM_SHARDS: String(shards) }, async (client) => {
      runs.push(await measureConcurrentCreates(client, environments, label, `pool${run}`, inFlight, shards));
    });
  }
  const bound = apiBound(environments, shards);
  return {
    environments,
    shards,
    inFlight,
    elbLimits: label,
    bound,
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    wallMs: summary(runs.map((r) => r.wallMs)),
    ratioToBound: runs.map((r) => r.ratioToBound),
    runs: runs.map(({ wallMs, failures, failureReasons, failedAt, ratioToBound, putsAnsweredMs, environmentsPerShard, duplicateListenerPriorities, createTransitions }) => ({
      wallMs, failures, failureReasons, failedAt, ratioToBound, putsAnsweredMs, environmentsPerShard, duplicateListenerPriorities, createTransitions,
    })),
  };
}

/** Writes the results where FLEDGE_BENCH_OUTPUT says (default bench/results.json) and prints them. */
function write(results: Record<string, unknown>): void {
  const text = JSON.stringify(results, null, 2);
  writeFileSync(process.env.FLEDGE_BENCH_OUTPUT ?? join(import.meta.dirname, 'results.json'), `${text}\n`);
  console.log(text);
}

/** Creates and transitions: with every ECS event delivered, then with every one lost. */
async function transitionSections(results: Record<string, unknown>, fast: Record<string, string>): Promise<void> {
  await withServer(fast, async (client, server) => {
    results.startupMs = server.startupMs;
    Object.assign(results, await measureCreates(client));
    results.transitions = { eventsDelivered: 'every ECS event reaches its handler', awsPollCost, ...(await measureTransitions(client)) };
  });
  // Every ECS event lost: the waits finish on their own poll (every FLEDGE_STEADY_STATE_POLL, 2 s
  // locally, 30 s on AWS), which is what a lost event costs in transitions and time.
  const eventsLost = { FLEDGE_SIM_HOSTILE: '1', FLEDGE_SIM_HOSTILE_RATES: '{"eventDropRate":1,"eventDuplicateRate":0,"eventMaxDelayMs":0,"staleReadMs":0,"throttleRate":0}' };
  await withServer({ ...fast, ...eventsLost }, async (client) => {
    results.transitionsEventsLost = { eventsDelivered: 'none: every EventBridge event is dropped; waits end on their poll', awsPollCost, ...(await measureTransitions(client)) };
  });
  // One run at AWS's proportions: a Fargate task takes about a minute to start against a 30 s
  // poll, so here 4 s against the local 2 s poll (health checks scale with the start): the waits
  // poll while the deployment runs, as on AWS, and the events still arrive.
  const realistic = { FLEDGE_SIM_TASK_START_MS: '4000', FLEDGE_SIM_HEALTH_CHECK_INTERVAL_MS: '1000', FLEDGE_STEADY_STATE_POLL: '2s' };
  await withServer({ ...fast, ...realistic }, async (client) => {
    results.transitionsRealisticStart = {
      eventsDelivered: 'every ECS event reaches its handler',
      scaled: 'task start 4 s, health checks every 1 s, poll 2 s: AWS\'s ~60 s Fargate start against its 30 s poll, scaled by 1/15',
      ...(await measureTransitions(client, 1)),
    };
  });
}

/** The results so far (main fills it section by section). */
const partial: Record<string, unknown> = {};

async function main() {
  const results = partial;
  Object.assign(results, { startedAt: new Date().toISOString(), smoke: SMOKE, node: process.version });
  const fastSimulator = { FLEDGE_SIM_TASK_START_MS: '0', FLEDGE_SIM_HEALTH_CHECK_INTERVAL_MS: '50', FLEDGE_SIM_RATE_LIMITS: 'off' };
  // transitions only: Fledge's own quotas out of the way of repeated runs
  const fast = { ...fastSimulator, FLEDGE_QUOTA_GLOBAL: '5000', FLEDGE_QUOTA_PER_REPOSITORY: '5000' };
  // the pool: Fledge's default quota follows its capacity (99 per shard), the simulator's AWS rates on
  const measureThePool = () => measurePool({ ...fastSimulator, FLEDGE_SIM_RATE_LIMITS: 'on' });
  if (ONLY_POOL) {
    results.pool = await measureThePool();
    return write(results);
  }
  if (ONLY !== 'api') await transitionSections(results, fast);
  // The API section measures the control plane with 1,000 environments (a pool of 11 ALBs), then
  // with 10,000 environment records. The simulator, which shares the API's process locally but
  // not on AWS, probes targets and evaluates alarms at AWS-like pace instead of the accelerated one.
  const quietSimulator = { FLEDGE_SIM_HEALTH_CHECK_INTERVAL_MS: '10000', FLEDGE_SIM_ALARM_PERIOD_MS: '60000' };
  const defaultQuota = { FLEDGE_QUOTA_GLOBAL: '99', FLEDGE_QUOTA_PER_REPOSITORY: '99' };
  const ONE_ALB = 'AWS defaults: one ALB of 100 target groups and 100 rules';
  const apiShards = shardsFor(SCALE.listSize);
  const dynamoPort = await freePort();
  await withServer({ ...fastSimulator, ...quietSimulator, FLEDGE_SIM_SHARDS: String(apiShards), FLEDGE_DYNAMODB_LOCAL_PORT: String(dynamoPort) }, async (client) => {
    results.api = await measureApi(client, SCALE.listSize, `AWS defaults: ${apiShards} ALB(s) of 100 target groups and 100 rules`, {
      endpoint: `http://127.0.0.1:${dynamoPort}`,
      table: 'fledge-local',
      records: SCALE.seededRecords,
    });
  });
  if (ONLY === 'api') return write(results);
  await withServer({ ...fast, ...defaultQuota, FLEDGE_SIM_RATE_LIMITS: 'on' }, async (client) => {
    results.concurrentCreates = await measureConcurrentCreates(client, SCALE.concurrent, ONE_ALB);
  });
  results.pool = await measureThePool();
  results.bundles = await measureBundles({ smoke: SMOKE });
  write(results);
}

main().catch((error) => {
  // what was measured before the failure is still written, so minutes of runs are not lost
  if (Object.keys(partial).length > 0) write({ ...partial, failedWith: String(error) });
  console.error(error);
  process.exit(1);
});
