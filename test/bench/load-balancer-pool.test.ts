/**
 * Issue 14's end-to-end proof at full size: 250 environments over a pool of 3 load balancers in
 * local mode at AWS's limits (test/e2e/pool-scenario.ts). In the bench project (`npm run
 * test:bench`, its own CI step): at AWS's API rates it takes minutes.
 */
import { poolScenario } from '../e2e/pool-scenario.ts';

poolScenario(250, 900_000);
