/** Which AWS errors are throttling (functions/domain/errors.ts isThrottlingError), answered as a 503 by every API route. */
import { describe, expect, it } from 'vitest';
import { AwsThrottled, isThrottlingError } from '../../../functions/domain/errors.ts';

const awsError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('Rate exceeded'), { name, ...extra });

describe('isThrottlingError', () => {
  it.each(['ThrottlingException', 'Throttling', 'ThrottledException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TooManyRequestsException', 'PriorRequestNotComplete'])(
    '%s is throttling',
    (name) => expect(isThrottlingError(awsError(name))).toBe(true),
  );

  it('so is an HTTP 429, the SDK\'s throttling trait, and a transaction cancelled because an item was throttled', () => {
    expect(isThrottlingError(awsError('Unknown', { $metadata: { httpStatusCode: 429 } }))).toBe(true);
    expect(isThrottlingError(awsError('Unknown', { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottlingError(awsError('TransactionCanceledException', { CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }] }))).toBe(true);
    expect(isThrottlingError(awsError('TransactionCanceledException', { CancellationReasons: [{ Code: 'ProvisionedThroughputExceeded' }] }))).toBe(true);
  });

  it('nothing else is: other AWS errors, a cancelled transaction for a condition, a retryable non-throttle, non-errors', () => {
    for (const error of [
      awsError('AccessDeniedException', { $metadata: { httpStatusCode: 400 } }),
      awsError('ResourceNotFoundException'),
      awsError('InternalServerError', { $metadata: { httpStatusCode: 500 }, $retryable: {} }),
      awsError('TransactionCanceledException', { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, null] }),
      awsError('TransactionCanceledException'),
      // a resource quota (ECS, CloudWatch Logs) or an idempotency token in use: another try in 2 s fixes neither
      awsError('LimitExceededException'),
      awsError('TransactionInProgressException'),
      // throttles of services Fledge does not call (S3, Glacier, SQS, EC2)
      awsError('SlowDown'), awsError('BandwidthLimitExceeded'), awsError('RequestThrottled'), awsError('EC2ThrottledException'),
      new Error('Throttling in the message only'),
      'ThrottlingException', null, undefined, 429,
    ]) expect(isThrottlingError(error), String((error as Error)?.name ?? error)).toBe(false);
  });
});

describe('AwsThrottled', () => {
  it('is a 503 with Retry-After and the code AWS_LIMIT, in plain words', () => {
    const error = new AwsThrottled();
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(2);
    expect(error.extensions).toEqual({ code: 'AWS_LIMIT' });
    expect(error.message).not.toMatch(/arn:|Exception/);
  });
});
