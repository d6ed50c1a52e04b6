/**
 * Token buckets per API action, account-wide, as AWS meters its control-plane APIs: a
 * bucket holds `burst` tokens and refills `perSecond` tokens a second; a call with no
 * token left is throttled.
 * ECS: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 * Route 53: one bucket for every Route 53 call of the account, 5 requests a second (Route 53
 * Developer Guide, "Quotas" / "Throttling for Amazon Route 53 API requests"; the rate this
 * installation's retries are sized to, docs/design.md "DNS per environment").
 */
import type { Clock } from './clock.ts';
import type { SimService } from './errors.ts';

export interface BucketLimit {
  burst: number;
  perSecond: number;
  /** one bucket for every action of the service (Route 53's account-wide rate), not one per action */
  perService?: true;
}

export type RateLimitTable = Record<string, BucketLimit>;

/** `<service>:<Action>` -> limit; `<service>:*` is the service's default, `*` the last resort. */
export const AWS_RATE_LIMITS: RateLimitTable = {
  ...each(['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService'], { burst: 50, perSecond: 5 }),
  // DeleteTaskDefinitions: taken as the task definition mutation it is (the same bucket size as DeregisterTaskDefinition's, its own bucket)
  ...each(['ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition', 'ecs:DeleteTaskDefinitions'], { burst: 20, perSecond: 1 }),
  ...each(['ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:ListTasks', 'ecs:*'], { burst: 100, perSecond: 20 }),
  'elasticloadbalancingv2:*': { burst: 100, perSecond: 25 },
  ...each(['cloudwatch:*', 'applicationautoscaling:*', '*'], { burst: 100, perSecond: 20 }),
  'route53:*': { burst: 5, perSecond: 5, perService: true },
};

/** The same limit for each of `actions`: each still has a bucket of its own. */
function each(actions: string[], limit: BucketLimit): RateLimitTable {
  return Object.fromEntries(actions.map((action) => [action, limit]));
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number; limit: BucketLimit }>();

  constructor(
    private readonly clock: Clock,
    private readonly table: RateLimitTable | false = AWS_RATE_LIMITS,
  ) {}

  private limitFor(service: SimService, action: string): { key: string; limit: BucketLimit } | undefined {
    if (!this.table) return undefined;
    for (const key of [`${service}:${action}`, `${service}:*`, '*']) {
      const limit = this.table[key];
      if (limit) return { key: limit.perService ? `${service}:*` : key.endsWith('*') ? `${service}:${action}` : key, limit };
    }
    return undefined;
  }

  /** Take one token; false when the call must be throttled. */
  take(service: SimService, action: string): boolean {
    const found = this.limitFor(service, action);
    if (!found) return true;
    const now = this.clock.now();
    let bucket = this.buckets.get(found.key);
    if (!bucket) {
      bucket = { tokens: found.limit.burst, updated: now, limit: found.limit };
      this.buckets.set(found.key, bucket);
    }
    const refill = ((now - bucket.updated) / 1000) * bucket.limit.perSecond;
    bucket.tokens = Math.min(bucket.limit.burst, bucket.tokens + refill);
    bucket.updated = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
