/**
 * Named Retry entries: each says which errors are worth another try and how long to keep at
 * it. Errors of the AWS SDK integrations are `<Service>.<Exception>` and
 * `<Service>.SdkClientException` (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html);
 * `MaxDelaySeconds` caps the exponential backoff and `JitterStrategy: FULL` spreads the retries of
 * many executions hitting one bucket (AWS docs "Handling errors in Step Functions workflows",
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 * Throttling retries are sized to the bucket they hit: docs/design.md "Retries sized to the bucket".
 */
import type { Retrier } from './asl.ts';

interface Backoff {
  interval: number;
  attempts: number;
  maxDelay?: number;
  rate: number;
  jitter?: boolean;
}

/** The Retry entry for `errors`, its fields in the order ASL documents them. */
function retry(errors: string[], { interval, attempts, maxDelay, rate, jitter = true }: Backoff): Retrier {
  return {
    ErrorEquals: errors,
    IntervalSeconds: interval,
    MaxAttempts: attempts,
    ...(maxDelay === undefined ? {} : { MaxDelaySeconds: maxDelay }),
    BackoffRate: rate,
    ...(jitter ? { JitterStrategy: 'FULL' } : {}),
  };
}

/** A transient fault of an AWS API: about 12 tries over a few minutes. */
const TRANSIENT: Backoff = { interval: 1, attempts: 12, maxDelay: 20, rate: 2 };

/** The Lambda service itself failing the invoke (not the function's own error). */
const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
/** Throttling of the AWS calls a task Lambda makes, surfacing as the function's error name. */
const THROTTLING_ERRORS = ['ThrottlingException', 'Throttling', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'];
/** Transient DynamoDB and service faults a task Lambda lets through. */
const LAMBDA_TRANSIENT_ERRORS = [...LAMBDA_SERVICE_ERRORS, ...THROTTLING_ERRORS, 'TransactionConflictException', 'InternalServerError', 'ServiceUnavailable'];

/** A task Lambda's invoke or its transient AWS faults: 10 tries. */
export const lambdaRetry = retry(LAMBDA_TRANSIENT_ERRORS, { interval: 1, attempts: 10, maxDelay: 20, rate: 2 });
/** The last chance to record an outcome (the fallbacks): longer, up to a minute apart. */
export const lambdaPatientRetry = retry(LAMBDA_TRANSIENT_ERRORS, { interval: 2, attempts: 12, maxDelay: 60, rate: 2 });
/** Only the Lambda service failing the invoke (a steady-state wait whose own errors have their own Retry). */
export const lambdaServiceRetry = retry(LAMBDA_SERVICE_ERRORS, { interval: 1, attempts: 10, maxDelay: 20, rate: 2 });
/**
 * Throttling of a task Lambda's own AWS calls in a burst (the steady-state Lambda's DescribeServices,
 * PlanResources' lookups: buckets of 100, refilled 20 a second, account-wide): 40 tries at most 5 s
 * apart, about 95 s, outlast what 1,000 creates at once queue for (npm run bench's pool: 20 tries
 * were not enough for 1 to 25 of 1,000).
 */
export const lambdaThrottlingRetry = retry(THROTTLING_ERRORS, { interval: 1, attempts: 40, maxDelay: 5, rate: 2 });
/**
 * The steady-state wait's DescribeServices in a burst: every waiting create polls the same
 * account-wide bucket (100, then 20 a second) for as long as the burst lasts, so its throttles
 * last longer than a lookup's: 80 tries at most 5 s apart, about 196 s on average (40 lost 3 to 4
 * of 1,000 creates at once in npm run bench's pool, once PlanResources also read Route 53).
 * Answering a throttled poll as "saw nothing" instead was tried and measured worse: every poll and
 * every event confirmation of a burst is throttled, so waits ran into their poll backstop (6 of
 * 1,000 TIMEOUT locally, where the poll is 2 s and the backstop a minute).
 */
export const lambdaSteadyStateThrottlingRetry = retry(THROTTLING_ERRORS, { interval: 1, attempts: 80, maxDelay: 5, rate: 2 });
/**
 * Route 53 throttling the look at the name a create's PlanResources makes with per-environment DNS
 * (ListResourceRecordSets: the account's bucket and the action's, 50 refilled 10 a second, shared
 * with every CreateDnsRecord; HTTP 400 `Throttling`), sized as route53Retry: 80 tries at most 5 s
 * apart, about 196 s on average, twice the (N - 50) / 10 s that N creates at once queue for (95 s
 * for 1,000). Before lambdaThrottlingRetry, which would give up after about 95 s. The Lambda's error
 * carries the SDK's name: `ThrottlingException` when the Route 53 client maps the code to its
 * declared ThrottlingException (as local mode's does), else `Throttling`; both are named, so the
 * step's other throttles (DynamoDB's, the ECS lookups') get this longer budget too, which is
 * harmless (npm run bench's pool lost 259 of 1,000 creates at PlanResources with `Throttling` alone).
 */
export const lambdaRoute53ThrottlingRetry = retry(['Throttling', 'ThrottlingException'], { interval: 1, attempts: 80, maxDelay: 5, rate: 2 });
/** A service of this name is still being deleted: about 10 minutes. */
export const serviceStillDrainingRetry = retry(['ServiceStillDraining'], { interval: 2, attempts: 45, maxDelay: 15, rate: 1.5, jitter: false });

/**
 * Which name a throttle of ECS, ELBv2, CloudWatch or Application Auto Scaling reaches a state with
 * is not settled by any AWS page. The Step Functions Developer Guide ("Learning to use AWS service
 * SDK integrations in Step Functions") says `<Service>.<Error>`, the error named as the service's
 * API Reference lists it, always with the Exception suffix: the Common Errors of ECS's and
 * Application Auto Scaling's API References list `ThrottlingException`, ELBv2's and CloudWatch's
 * `Throttling` (so `...ThrottlingException`). But none of these models declares that error, and an
 * SDK names an undeclared code by the service's catch-all (`Ecs.EcsException`: the AWS SDK for
 * Java's behaviour, which infra/local/simulator/service-exceptions.ts follows). Were either guess
 * wrong alone, a throttle would be retried nowhere, so every throttling retrier and Catch names
 * both until a real account shows which one arrives (docs/aws-verification.md). The catch-all
 * also carries the service's other undeclared errors (server faults without a shape): another
 * try is safe for all of them. Each Retry array names these once, in its throttling retrier,
 * before any broader one.
 */
const ECS_THROTTLED = ['Ecs.ThrottlingException', 'Ecs.EcsException'];
const ELB_THROTTLED = ['ElasticLoadBalancingV2.ThrottlingException', 'ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception'];
const CLOUDWATCH_THROTTLED = ['CloudWatch.ThrottlingException', 'CloudWatch.CloudWatchException'];
const AUTOSCALING_THROTTLED = ['ApplicationAutoScaling.ThrottlingException', 'ApplicationAutoScaling.ApplicationAutoScalingException'];

/** ECS failing on its side (the declared ServerException) or the network: throttling is left to the step's throttling retrier or Catch. */
export const ecsServerRetry = retry(['Ecs.ServerException', 'Ecs.SdkClientException'], TRANSIENT);
/** ECS's throttling and faults, about 12 tries over a few minutes (UpdateService, DeleteService, heal's CreateService). */
export const ecsRetry = retry([...ECS_THROTTLED, 'Ecs.ServerException', 'Ecs.SdkClientException'], TRANSIENT);
/**
 * A registration after FindTaskDefinition found no revision yet: a few tries only, then
 * FindTaskDefinition looks again (create.ts). In a burst, every create of one content waits for
 * the same bucket (20, then 1/s), and one registration of that content is all they need: looking
 * again finds it, instead of each registering its own revision through a minutes-long queue.
 */
export const ecsRegisterAgainRetry = retry(ECS_THROTTLED, { interval: 2, attempts: 3, maxDelay: 8, rate: 2 });
/**
 * FindTaskDefinition's DescribeTaskDefinition (100, then 20/s) in a burst, where every create still
 * waiting for its content's first registration looks again between registration tries: 40 tries at
 * most 5 s apart, about 95 s (12 tries lost 9 of 1,000 creates at once in npm run bench's pool).
 */
export const ecsDescribeThrottlingRetry = retry(ECS_THROTTLED, { interval: 1, attempts: 40, maxDelay: 5, rate: 2 });
/** RegisterTaskDefinition's bucket (20, then 1/s): about 6 minutes of tries. */
export const ecsThrottlingRetry = retry(ECS_THROTTLED, { interval: 1, attempts: 40, maxDelay: 20, rate: 2 });
/**
 * CreateService's bucket (50, then 5/s): tries at most 5 s apart keep it busy to the end; 100 of
 * them, about 245 s, outlast the 190 s a pool's 1,000 creates at once queue for (40 ran out at ~95 s).
 */
export const ecsCreateThrottlingRetry = retry(ECS_THROTTLED, { interval: 1, attempts: 100, maxDelay: 5, rate: 2 });
/** The Catch of a throttled ECS call handed to another step (create.ts: RegisterTaskDefinition <-> FindTaskDefinition). */
export const ECS_THROTTLING_ERRORS = ECS_THROTTLED;
/**
 * ECS answers some throttles with ClientException (docs/design.md "ECS ClientException trade-off").
 * In a machine's states this is a marker: withCauseLoops (cause-loops.ts) replaces
 * it with a Catch into a Choice that reads the Cause (throttles tried again for minutes, any other
 * ClientException failing at once); left alone it would be a few tries, ~14 s, for both.
 */
export const ecsClientRetry = retry(['Ecs.ClientException'], { interval: 2, attempts: 3, maxDelay: 10, rate: 2 });

/**
 * RunTask refused before any task ran: safe to try again, nothing ran. The optimized integration
 * names ECS's unmodeled errors `ECS.AmazonECSException`, ECS's code in the Cause (throttling,
 * Fargate's task-launch rate, server faults, capacity). A task that ran and failed is
 * States.TaskFailed, never retried (a hook's command is not assumed idempotent).
 */
export const runTaskRetry = retry(['ECS.AmazonECSException'], TRANSIENT);
/**
 * RunTask's `ECS.InvalidParameterException`: a bad parameter, but also what ECS answers when its
 * own lookups of the subnets and security groups are throttled (cdklabs/construct-hub PR #415
 * retries it for that reason). A few tries, ~14 s at most, so a truly bad parameter fails soon.
 */
export const runTaskInvalidParameterRetry = retry(['ECS.InvalidParameterException'], { interval: 2, attempts: 3, maxDelay: 10, rate: 2 });

/** ELBv2's `Throttling` (named both ways, see ECS_THROTTLED above; the catch-all also carries its server faults). */
export const elbRetry = retry([...ELB_THROTTLED, 'ElasticLoadBalancingV2.SdkClientException'], TRANSIENT);
/** A target group is in use until detaching the rule and the service that used it has settled. */
export const targetGroupInUseRetry = retry(['ElasticLoadBalancingV2.ResourceInUseException'], { interval: 3, attempts: 6, maxDelay: 30, rate: 2 });

/** CloudWatch's `Throttling` (named both ways, see ECS_THROTTLED above) and its server faults. */
export const cloudwatchRetry = retry(
  [
    ...CLOUDWATCH_THROTTLED,
    'CloudWatch.InternalServiceException',
    'CloudWatch.InternalServiceFaultException',
    'CloudWatch.SdkClientException',
  ],
  TRANSIENT,
);

/** Application Auto Scaling's `ThrottlingException` (named both ways, see ECS_THROTTLED above), its concurrent updates and server faults. */
export const autoscalingRetry = retry(
  [
    ...AUTOSCALING_THROTTLED,
    'ApplicationAutoScaling.ConcurrentUpdateException',
    'ApplicationAutoScaling.InternalServiceException',
    'ApplicationAutoScaling.SdkClientException',
  ],
  TRANSIENT,
);
export const autoscalingAccessRetry = retry(['ApplicationAutoScaling.FailedResourceAccessException'], { interval: 2, attempts: 4, rate: 2 });

/** SNS's throttling is the declared `Throttled`; anything undeclared is the catch-all `SnsException`. */
export const snsRetry = retry(
  ['Sns.ThrottledException', 'Sns.InternalErrorException', 'Sns.KmsThrottlingException', 'Sns.SnsException', 'Sns.SdkClientException'],
  TRANSIENT,
);

/**
 * Route 53's throttling (Route 53 Developer Guide, "Throttling for Amazon Route 53 API requests",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html): each
 * request takes a token from the account's bucket and from its action's (both 50, refilled 10 a
 * second), and each record change from a change-throughput bucket whose size the guide's page did
 * not yield here; any of them empty is HTTP 400 `Throttling`. Route 53's model declares
 * `ThrottlingException` but not that code, so Step Functions names it with the catch-all
 * `Route53.Route53Exception` (infra/local/simulator/service-exceptions.ts; Step Functions Developer
 * Guide, "AWS SDK service integrations"), which also carries Route 53's undeclared server faults
 * (InternalFailure, ServiceUnavailable: another try is safe). A change to a zone still applying an
 * earlier one is the declared `PriorRequestNotComplete`. Each create and teardown makes one change, so N of them at once need
 * (N - 50) / 10 s of the request buckets: 95 s for 1,000. Tries at most 5 s apart (2.5 s on average
 * with full jitter) keep the bucket busy; 80 of them wait about 196 s on average, twice that, for
 * the other Route 53 calls sharing the account bucket (heal inspections, the orphan sweep) and
 * the change bucket of unknown size (docs/design.md "DNS per environment").
 */
export const route53Retry = retry(
  ['Route53.Route53Exception', 'Route53.ThrottlingException', 'Route53.PriorRequestNotCompleteException'],
  { interval: 1, attempts: 80, maxDelay: 5, rate: 2 },
);
/**
 * The network failing the call (SdkClientException): 4 tries, at most 15 s of waiting. Declared
 * caller errors (InvalidInput, InvalidChangeBatch, NoSuchHostedZone) are not retried: another try
 * cannot fix them.
 */
export const route53ServerRetry = retry(['Route53.SdkClientException'], { interval: 1, attempts: 4, maxDelay: 10, rate: 2 });

/** The steady-state wait's TimeoutSeconds is its poll interval: each retry on States.Timeout polls again. */
export const steadyStateTimeoutRetry = (attempts: number) => retry(['States.Timeout'], { interval: 1, attempts, rate: 1, jitter: false });
