import { defineConfig } from 'vitest/config';

/**
 * Three projects: every test as is (`default`); the end-to-end suites again against the
 * simulator in hostile mode (`e2e-hostile`: ECS events dropped, duplicated, delayed and
 * reordered; reads that lag mutations: infra/local/README.md); and the benchmark's smoke test
 * (`bench`), which runs `npm run bench` end to end for minutes, so it is not part of
 * `npm test` (`--project '!bench'`) but its own step: `npm run test:bench`, as CI does.
 * The hostile run's seed is printed, so a failure can be repeated with
 * `FLEDGE_SIM_SEED=<seed> npm test -- --project e2e-hostile`.
 */
const hostileSeed = process.env.FLEDGE_SIM_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
console.log(`e2e-hostile: FLEDGE_SIM_SEED=${hostileSeed}`);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // most of the suite waits on simulated time and child processes: two workers on two cores
    maxWorkers: 2,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], exclude: ['test/bench/**'] } },
      {
        extends: true,
        test: {
          name: 'e2e-hostile',
          include: ['test/e2e/**/*.test.ts'],
          // the fuzz test is about input, not AWS's weather; its "a 4xx changes nothing" check needs a quiet simulator.
          // The browser test is about the page, which shows what the API answers whatever the weather
          // (the API's own suites run here): a second Chromium run would only cost minutes on shared cores.
          // The pool test is about capacity at AWS's limits (120 environments over 3 ALBs), not weather: a second run would cost a minute or more.
          exclude: ['test/e2e/fuzz.test.ts', 'test/e2e/dashboard.test.ts', 'test/e2e/load-balancer-pool.test.ts'],
          env: { FLEDGE_SIM_HOSTILE: '1', FLEDGE_SIM_SEED: hostileSeed },
        },
      },
      { extends: true, test: { name: 'bench', include: ['test/bench/**/*.test.ts'] } },
    ],
  },
});
