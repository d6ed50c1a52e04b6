/**
 * Token buckets per API action, account-wide, as AWS meters its control-plane APIs: a
 * bucket holds `burst` tokens and refills `perSecond` tokens a second; a call with no
 * token left is throttled.
 * ECS: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 * Route 53 (Route 53 Developer Guide, "Throttling for Amazon Route 53 API requests",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html):
 * every request takes a token from the account's bucket (50, refilled 10 a second) AND from its
 * action's own bucket (50 and 10 for ChangeResourceRecordSets, ListResourceRecordSets and
 * GetChange: none of them is among the actions the guide lists with other sizes), and is
 * throttled when either is empty. The guide also meters record changes per second across the
 * actions that modify DNS data (change-based throttling), but the size of that bucket could not be
 * retrieved: it is not modelled here (docs/design.md "DNS per environment").
 */
import type { Clock } from './clock.ts';
import type { SimService } from './errors.ts';

export interface BucketLimit {
  burst: number;
  perSecond: number;
  /** the service's account-wide bucket each call also takes a token from (Route 53), besides its action's own */
  account?: { burst: number; perSecond: number };
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
  'route53:*': { burst: 50, perSecond: 10, account: { burst: 50, perSecond: 10 } },
};

/** The same limit for each of `actions`: each still has a bucket of its own. */
function each(actions: string[], limit: BucketLimit): RateLimitTable {
  return Object.fromEntries(actions.map((action) => [action, limit]));
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number; limit: Omit<BucketLimit, 'account'> }>();

  constructor(
    private readonly clock: Clock,
    private readonly table: RateLimitTable | false = AWS_RATE_LIMITS,
  ) {}

  private limitFor(service: SimService, action: string): { key: string; limit: BucketLimit } | undefined {
    if (!this.table) return undefined;
    for (const key of [`${service}:${action}`, `${service}:*`, '*']) {
      const limit = this.table[key];
      if (limit) return { key: key.endsWith('*') ? `${service}:${action}` : key, limit };
    }
    return undefined;
  }

  /** The bucket under `key`, refilled up to now. */
  private bucket(key: string, limit: Omit<BucketLimit, 'account'>, now: number) {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit.burst, updated: now, limit };
      this.buckets.set(key, bucket);
    }
    const refill = ((now - bucket.updated) / 1000) * bucket.limit.perSecond;
    bucket.tokens = Math.min(bucket.limit.burst, bucket.tokens + refill);
    bucket.updated = now;
    return bucket;
  }

  /** Take one token (from the action's bucket and, where the service has one, its account bucket); false when the call must be throttled. */
  take(service: SimService, action: string): boolean {
    const found = this.limitFor(service, action);
    if (!found) return true;
    const now = this.clock.now();
    const buckets = [this.bucket(found.key, found.limit, now)];
    if (found.limit.account) buckets.push(this.bucket(`${service}:(account)`, found.limit.account, now));
    // a throttled call takes no token from either bucket
    if (buckets.some((b) => b.tokens < 1)) return false;
    for (const b of buckets) b.tokens -= 1;
    return true;
  }
}
