/**
 * The benchmark's own smoke test: `npm run bench` at a tiny scale must still run end to end
 * and produce every section. Figures are only checked for being measurements (numbers),
 * never against targets: performance is reported by the benchmark, not asserted by tests.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

it('npm run bench produces every section of the report', { timeout: 600_000 }, async () => {
  const output = join(mkdtempSync(join(tmpdir(), 'fledge-bench-')), 'results.json');
  await run('npm', ['run', '-s', 'bench'], {
    cwd: ROOT,
    env: { ...process.env, FLEDGE_BENCH_SMOKE: '1', FLEDGE_BENCH_OUTPUT: output },
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(readFileSync(output, 'utf8'));
  const measured = { n: expect.any(Number), p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) };
  expect(report).toMatchObject({
    smoke: true,
    createOverheadMs: measured,
    createTotalMs: measured,
    transitions: { awsPollCost: { pollIntervalSeconds: 30, transitionsPerPoll: 1 }, create: { perRun: expect.any(Number) }, update: { perRun: expect.any(Number) }, teardown: { perRun: expect.any(Number) } },
    transitionsEventsLost: { create: { perRun: expect.any(Number) }, update: { perRun: expect.any(Number) }, teardown: { perRun: expect.any(Number) } },
    // what the 30 s poll adds on AWS, stated, and one run where the waits poll while the tasks start
    transitionsRealisticStart: { create: { perRun: expect.any(Number), waitPollsPerRun: expect.any(Number) }, update: { perRun: expect.any(Number), waitPollsPerRun: expect.any(Number) } },
    api: {
      getOneMs: measured, listMs: measured, putUnchangedMs: measured, environmentsPresent: 30, environmentRecords: 30, elbLimits: expect.stringMatching(/^AWS defaults/),
      withSeededRecords: { seededStraightToTheTable: 70, environmentRecords: 100, getOneMs: measured, listMs: measured },
    },
    concurrentCreates: { environments: 6, wallMs: expect.any(Number), failures: expect.any(Number), duplicateListenerPriorities: expect.any(Number), elbLimits: expect.stringMatching(/^AWS defaults/) },
    // a pool of 2 (the smoke's minimum, so per-environment DNS runs too), at AWS's limits and rates
    pool: {
      environments: 6,
      shards: 2,
      elbLimits: expect.stringMatching(/^AWS defaults/),
      bound: { bindingMs: expect.any(Number), createServiceMs: expect.any(Number), route53Ms: expect.any(Number) },
      failures: expect.any(Number),
      wallMs: measured,
      runs: [expect.objectContaining({ wallMs: expect.any(Number), environmentsPerShard: expect.any(Object) })],
    },
    bundles: { maxBytes: expect.any(Number), maxColdImportMs: expect.any(Number) },
  });
  expect(Object.keys(report.bundles.functions).length).toBeGreaterThan(0);
});
