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

/** An authenticated caller the access policy grants nothing (an unmapped IAM principal, a token without a repository). */
export class Forbidden extends DomainError {
  readonly status = 403;
  readonly title = 'Forbidden';
}
