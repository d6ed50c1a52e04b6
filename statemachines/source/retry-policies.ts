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
/** Throttling of the steady-state Lambda's DescribeServices and DynamoDB calls: 20 tries, cap 5 s. */
export const lambdaThrottlingRetry = retry(THROTTLING_ERRORS, { interval: 1, attempts: 20, maxDelay: 5, rate: 2 });
/** A service of this name is still being deleted: about 10 minutes. */
export const serviceStillDrainingRetry = retry(['ServiceStillDraining'], { interval: 2, attempts: 45, maxDelay: 15, rate: 1.5, jitter: false });

export const ecsServerRetry = retry(['Ecs.ServerException', 'Ecs.EcsException', 'Ecs.SdkClientException'], TRANSIENT);
export const ecsRetry = retry(['Ecs.ThrottlingException', 'Ecs.ServerException', 'Ecs.EcsException', 'Ecs.SdkClientException'], TRANSIENT);
/** RegisterTaskDefinition's bucket (20, then 1/s): about 6 minutes of tries. */
export const ecsThrottlingRetry = retry(['Ecs.ThrottlingException'], { interval: 1, attempts: 40, maxDelay: 20, rate: 2 });
/**
 * CreateService's bucket (50, then 5/s): tries at most 5 s apart keep it busy to the end; 100 of
 * them, about 245 s, outlast the 190 s a pool's 1,000 creates at once queue for (40 ran out at ~95 s).
 */
export const ecsCreateThrottlingRetry = retry(['Ecs.ThrottlingException'], { interval: 1, attempts: 100, maxDelay: 5, rate: 2 });
/** ECS answers some throttles with ClientException (docs/design.md "ECS ClientException trade-off"): a few tries, ~14 s. */
export const ecsClientRetry = retry(['Ecs.ClientException'], { interval: 2, attempts: 3, maxDelay: 10, rate: 2 });

export const elbRetry = retry(
  ['ElasticLoadBalancingV2.ThrottlingException', 'ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception', 'ElasticLoadBalancingV2.SdkClientException'],
  TRANSIENT,
);
/** A target group is in use until detaching the rule and the service that used it has settled. */
export const targetGroupInUseRetry = retry(['ElasticLoadBalancingV2.ResourceInUseException'], { interval: 3, attempts: 6, maxDelay: 30, rate: 2 });

export const cloudwatchRetry = retry(
  [
    'CloudWatch.ThrottlingException',
    'CloudWatch.InternalServiceException',
    'CloudWatch.InternalServiceFaultException',
    'CloudWatch.CloudWatchException',
    'CloudWatch.SdkClientException',
  ],
  TRANSIENT,
);

export const autoscalingRetry = retry(
  [
    'ApplicationAutoScaling.ThrottlingException',
    'ApplicationAutoScaling.ConcurrentUpdateException',
    'ApplicationAutoScaling.InternalServiceException',
    'ApplicationAutoScaling.ApplicationAutoScalingException',
    'ApplicationAutoScaling.SdkClientException',
  ],
  TRANSIENT,
);
export const autoscalingAccessRetry = retry(['ApplicationAutoScaling.FailedResourceAccessException'], { interval: 2, attempts: 4, rate: 2 });

export const snsRetry = retry(
  ['Sns.ThrottledException', 'Sns.ThrottlingException', 'Sns.InternalErrorException', 'Sns.KmsThrottlingException', 'Sns.SnsException', 'Sns.SdkClientException'],
  TRANSIENT,
);

/** The steady-state wait's TimeoutSeconds is its poll interval: each retry on States.Timeout polls again. */
export const steadyStateTimeoutRetry = (attempts: number) => retry(['States.Timeout'], { interval: 1, attempts, rate: 1, jitter: false });
