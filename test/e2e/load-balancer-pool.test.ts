/**
 * A pool of 3 load balancers end to end in local mode, at AWS's limits (test/e2e/pool-scenario.ts):
 * 120 environments, more than one ALB holds, created, served, spread over every shard, deleted.
 * The 250-environment run of issue 14 is in the bench project (test/bench/load-balancer-pool.test.ts):
 * at AWS's API rates (CreateService 5/s, Route 53 5/s for a create and a delete each) it takes
 * minutes, too long for `npm test`. FLEDGE_POOL_ENVIRONMENTS changes the count (measuring).
 */
import { poolScenario } from './pool-scenario.ts';

poolScenario(Number(process.env.FLEDGE_POOL_ENVIRONMENTS ?? 120), 300_000);
