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
