/**
 * The small vocabulary of domain errors. Handlers never build status codes themselves:
 * the http wrapper maps these to RFC 9457 problems in one place (functions/lambda/http-handler.ts).
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  readonly extensions: Record<string, unknown> = {};
  /** when the same request may succeed if retried (the answer's `Retry-After`) */
  readonly retryAfterSeconds?: number;
}

export class ValidationFailed extends DomainError {
  readonly status = 400;
  readonly title = 'Invalid request';
  constructor(detail: string, readonly errors: FieldError[] = []) {
    super(detail);
    this.extensions.errors = errors;
  }
}

export class EnvironmentNotFound extends DomainError {
  readonly status = 404;
  readonly title = 'Environment not found';
  constructor(name: string) {
    super(`no environment named "${name}"`);
  }
}

export class Conflict extends DomainError {
  readonly status = 409;
  readonly title = 'Conflict';
}

/** A conditional write lost to a concurrent one: the request can be decided again on a fresh read. */
export class VersionConflict extends Conflict {}

export class PreconditionFailed extends DomainError {
  readonly status = 412;
  readonly title = 'Precondition failed';
  constructor(expected: string, actual: number | undefined) {
    super(
      actual === undefined
        ? `If-Match ${expected} given, but the environment does not exist`
        : `If-Match ${expected} does not match the current version "${actual}"`,
    );
    if (actual !== undefined) this.extensions.currentVersion = actual;
  }
}

export class PayloadTooLarge extends DomainError {
  readonly status = 413;
  readonly title = 'Payload too large';
}

export class UnsupportedMediaType extends DomainError {
  readonly status = 415;
  readonly title = 'Unsupported media type';
}

export class IdempotencyKeyReused extends DomainError {
  readonly status = 422;
  readonly title = 'Idempotency-Key reused';
  constructor() {
    super('this Idempotency-Key was already used with a different request within the last 24 hours');
  }
}

/**
 * A request with this Idempotency-Key is still being processed: a 409 with `Retry-After`, as the
 * IETF draft "The Idempotency-Key HTTP Header Field" asks of a retry while the first is processed.
 */
export class IdempotencyKeyInProgress extends DomainError {
  readonly status = 409;
  readonly title = 'Idempotency-Key in progress';
  constructor(override readonly retryAfterSeconds: number, claimLapsesAt?: string) {
    const lapses = claimLapsesAt ? ` If that request never finishes, its claim lapses at ${claimLapsesAt}.` : '';
    super(`a request with this Idempotency-Key is still in progress; retry after ${retryAfterSeconds} s to get its answer.${lapses}`);
    this.extensions.code = 'IDEMPOTENCY_KEY_IN_PROGRESS';
  }
}

export class QuotaExceeded extends DomainError {
  readonly status = 429;
  readonly title = 'Quota exceeded';
  constructor(limit: 'global' | 'repository', max: number, current: number, repository?: string) {
    super(
      limit === 'global'
        ? `at most ${max} live environments are allowed; ${current} exist`
        : `at most ${max} live environments are allowed for repository "${repository}"; ${current} exist`,
    );
    Object.assign(this.extensions, { code: 'QUOTA_EXCEEDED', limit, max, current, ...(repository ? { repository } : {}) });
  }
}

/**
 * The names AWS throttles a call's request rate with, for the services Fledge calls: ECS,
 * CloudWatch Logs, Step Functions and DynamoDB `ThrottlingException`; ELBv2, CloudWatch and
 * Route 53 `Throttling` (and Route 53's `PriorRequestNotComplete`: a zone's changes arriving faster
 * than it applies them); DynamoDB `ProvisionedThroughputExceededException` and
 * `RequestLimitExceeded` (Amazon DynamoDB Developer Guide, "Error handling with DynamoDB"); SNS
 * `ThrottledException`; Lambda `TooManyRequestsException`. Not the whole list the AWS SDK retries
 * as throttling (`THROTTLING_ERROR_CODES` of @smithy/service-error-classification): its
 * `LimitExceededException` is a resource quota for ECS and CloudWatch Logs (another try in 2 s
 * cannot fix it), `TransactionInProgressException` a DynamoDB idempotency token still in use,
 * `SlowDown`, `BandwidthLimitExceeded`, `RequestThrottled*` and `EC2ThrottledException` belong to
 * services Fledge does not call (S3, Glacier, SQS, EC2). Answering any of them as 503 AWS_LIMIT
 * with Retry-After would tell the caller a quota is a passing rate limit.
 */
const THROTTLING_ERROR_NAMES = new Set([
  'PriorRequestNotComplete', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'ThrottledException',
  'Throttling', 'ThrottlingException', 'TooManyRequestsException',
]);
/**
 * The cancellation reasons of a DynamoDB transaction that was throttled (Amazon DynamoDB API
 * Reference, TransactWriteItems, TransactionCanceledException: "Provisioned Throughput Exceeded:
 * Code ProvisionedThroughputExceeded", "Throttling Error: Code ThrottlingError").
 */
const THROTTLED_CANCELLATION_CODES = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * Whether `error` is AWS throttling a call, after the SDK's own retries: its name, an HTTP 429,
 * the SDK's `$retryable.throttling` trait (as the SDK decides), or a DynamoDB transaction
 * cancelled because one of its items was throttled.
 */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata, $retryable, CancellationReasons } = error as {
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
    CancellationReasons?: unknown;
  };
  if (typeof name === 'string' && THROTTLING_ERROR_NAMES.has(name)) return true;
  if ($metadata?.httpStatusCode === 429 || $retryable?.throttling === true) return true;
  return name === 'TransactionCanceledException' && Array.isArray(CancellationReasons) &&
    CancellationReasons.some((reason: { Code?: unknown } | null) => typeof reason?.Code === 'string' && THROTTLED_CANCELLATION_CODES.has(reason.Code));
}

/** What an answer throttled by AWS tells the caller to wait (AWS's request buckets refill every second). */
export const THROTTLED_RETRY_AFTER_SECONDS = 2;

/**
 * AWS throttled a call the request needs (ECS, CloudWatch Logs, DynamoDB, ...) and the SDK's
 * retries did not get past it: a 503 with `Retry-After` and the code `AWS_LIMIT` (the code an
 * operation gets when AWS throttles its workflow), never a 500. Not a 429: that status is the
 * caller's own limit (a quota, or API Gateway throttling this caller), while AWS's request rates
 * are the account's, shared by every repository; the server is briefly unable to answer anyone
 * (RFC 9110 section 15.6.4, 503 Service Unavailable: "temporary overload").
 */
export class AwsThrottled extends DomainError {
  readonly status = 503;
  readonly title = 'Service unavailable';
  override readonly retryAfterSeconds = THROTTLED_RETRY_AFTER_SECONDS;
  constructor() {
    super(`AWS is throttling the calls this request needs and retries did not get past it; retry after ${THROTTLED_RETRY_AFTER_SECONDS} s`);
    this.extensions.code = 'AWS_LIMIT';
  }
}

/** An authenticated caller the access policy grants nothing (an unmapped IAM principal, a token without a repository). */
export class Forbidden extends DomainError {
  readonly status = 403;
  readonly title = 'Forbidden';
}
