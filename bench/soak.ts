/**
 * `npm run soak`: full environment lifecycles in a row against local mode with the simulator
 * at its most hostile (FLEDGE_SIM_HOSTILE=1: ECS events dropped, duplicated, delayed and
 * reordered; reads that lag mutations). Each lifecycle: create -> update (image and health
 * check) -> scale 1 -> 3 -> 1 -> the service deleted behind Fledge's back, healed -> delete ->
 * an immediate re-create of the same name -> delete. After all of them it counts operations
 * left running (stuck) and simulated resources left behind (leaked), and prints one JSON
 * object with the time each lifecycle took. FLEDGE_SOAK_LIFECYCLES (default 20) sets how many;
 * FLEDGE_SIM_SEED makes a run repeatable. Figures are reported, never asserted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalServer } from '../test/e2e/local-server.ts';
import { LocalClient } from './local-client.ts';
import { round, summary } from './stats.ts';

const LIFECYCLES = Number(process.env.FLEDGE_SOAK_LIFECYCLES ?? '20');
const STEP_TIMEOUT_MS = 180_000;
const spec = (image: string, healthPath = '/') => ({ image, labels: { repository: 'acme/soak' }, healthCheck: { path: healthPath } });

interface Step {
  step: string;
  ms: number;
}

async function lifecycle(client: LocalClient, name: string): Promise<Step[]> {
  const steps: Step[] = [];
  const timed = async (step: string, work: () => Promise<unknown>) => {
    const started = Date.now();
    await work();
    steps.push({ step, ms: Date.now() - started });
  };
  const expectStatus = async (statuses: string[], finalStatus: string) => {
    const { status } = await client.waitFor(name, statuses, STEP_TIMEOUT_MS, 50);
    if (status !== finalStatus) {
      const record = (await client.get(name)).body as { operation?: unknown };
      throw new Error(`${name}: ended ${status}, expected ${finalStatus}: ${JSON.stringify(record.operation)}`);
    }
  };
  const settle = async (answer: Promise<{ status: number; body: unknown }>, accepted: number[], statuses: string[], finalStatus: string) => {
    const { status, body } = await answer;
    if (!accepted.includes(status)) throw new Error(`${name}: answered ${status}: ${JSON.stringify(body)}`);
    await expectStatus(statuses, finalStatus);
  };
  const ended = ['RUNNING', 'FAILED', 'DEGRADED', 'SLEEPING'];
  await timed('create', () => settle(client.put(name, spec('ghcr.io/acme/web:1.0')), [201], ended, 'RUNNING'));
  await timed('update', () => settle(client.put(name, spec('ghcr.io/acme/web:2.0', '/healthz')), [202], ended, 'RUNNING'));
  await timed('scale-up', () => settle(client.request('POST', `/v1/environments/${name}/scale`, { desiredCount: 3 }), [202], ended, 'RUNNING'));
  await timed('scale-down', () => settle(client.request('POST', `/v1/environments/${name}/scale`, { desiredCount: 1 }), [202], ended, 'RUNNING'));
  await timed('heal', async () => {
    const fault = await client.request('POST', '/_local/faults', { environment: name, fault: 'delete-service' });
    if (fault.status !== 200) throw new Error(`${name}: fault answered ${fault.status}`);
    await client.waitFor(name, ['HEALING'], STEP_TIMEOUT_MS, 50);
    await expectStatus(['RUNNING', 'DEGRADED'], 'RUNNING');
  });
  await timed('delete', () => settle(client.request('DELETE', `/v1/environments/${name}`), [202], ['DELETED'], 'DELETED'));
  await timed('re-create', () => settle(client.put(name, spec('ghcr.io/acme/web:2.0')), [201], ended, 'RUNNING'));
  await timed('final-delete', () => settle(client.request('DELETE', `/v1/environments/${name}`), [202], ['DELETED'], 'DELETED'));
  return steps;
}

async function main() {
  // the run's seed, reported so a failing run can be repeated (FLEDGE_SIM_SEED=<seed> npm run soak)
  const seed = process.env.FLEDGE_SIM_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
  const server = await startLocalServer({
    FLEDGE_SIM_HOSTILE: '1',
    FLEDGE_SIM_SEED: seed,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    FLEDGE_LOG_LEVEL: 'ERROR',
  }, 120_000);
  const client = new LocalClient(server);
  const runs: { name: string; ms: number; steps: Step[]; error?: string }[] = [];
  try {
    for (let i = 0; i < LIFECYCLES; i++) {
      const name = `soak-${String(i).padStart(2, '0')}`;
      const started = Date.now();
      try {
        const steps = await lifecycle(client, name);
        runs.push({ name, ms: Date.now() - started, steps });
      } catch (error) {
        runs.push({ name, ms: Date.now() - started, steps: [], error: (error as Error).message });
      }
      console.error(`${name}: ${runs.at(-1)!.error ? `FAILED ${runs.at(-1)!.error}` : `${runs.at(-1)!.ms} ms`}`);
    }
    await client.waitForNoRunningExecutions(120_000).catch(() => undefined);
    const executions = await client.executions();
    const stuck = executions.filter((e) => e.status === 'RUNNING').map((e) => `${e.kind} ${e.name}`);
    const resources = await client.resources();
    const leaked: string[] = [];
    for (const [kind, list] of Object.entries(resources as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      for (const entry of list as { environment?: string; name?: string }[]) {
        if (entry.environment?.startsWith('soak-')) leaked.push(`${kind}: ${entry.name ?? entry.environment}`);
      }
    }
    const ok = runs.filter((r) => !r.error);
    const byStep: Record<string, unknown> = {};
    for (const step of ok[0]?.steps.map((s) => s.step) ?? []) {
      byStep[step] = summary(ok.map((r) => r.steps.find((s) => s.step === step)!.ms));
    }
    const result = {
      seed,
      startedAt: new Date(Date.now() - runs.reduce((a, r) => a + r.ms, 0)).toISOString(),
      hostile: true,
      lifecycles: runs.length,
      succeeded: ok.length,
      failed: runs.filter((r) => r.error).map((r) => ({ name: r.name, error: r.error })),
      stuckOperations: stuck.length,
      stuck,
      leakedResources: leaked.length,
      leaked,
      lifecycleMs: runs.map((r) => ({ name: r.name, ms: r.ms })),
      lifecycleSummaryMs: summary(ok.map((r) => r.ms)),
      stepMs: byStep,
      transitionsPerExecution: round(executions.reduce((a, e) => a + e.stateTransitions, 0) / Math.max(1, executions.length)),
    };
    const text = JSON.stringify(result, null, 2);
    writeFileSync(process.env.FLEDGE_SOAK_OUTPUT ?? join(import.meta.dirname, 'soak-results.json'), `${text}\n`);
    console.log(text);
    if (result.failed.length || stuck.length || leaked.length) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
