/**
 * Whose fault a failed operation is, from its typed code: the operator's dashboard and alarms
 * keep the two apart, so a user's bad image never pages the operator. A Record over every
 * code: a new code cannot be added without deciding whose it is. Pure.
 */
import type { ErrorCode } from './environment.ts';

export type FailureSide = 'user' | 'control-plane';

export const FAILURE_SIDE: Record<ErrorCode, FailureSide> = {
  // what the user's image, spec or app did
  IMAGE_PULL_FAILED: 'user',
  TASK_EXITED: 'user',
  OUT_OF_MEMORY: 'user',
  HEALTH_CHECK_FAILED: 'user',
  // a hook's command exited non-zero or ran past its timeout (the spec's hooks)
  HOOK_FAILED: 'user',
  QUOTA_EXCEEDED: 'user',
  // the environment's name is used in the operator's hosted zone by a record Fledge does not manage: choose another name
  DNS_NAME_IN_USE: 'user',
  // the app did not become steady in time: the image's own start-up, not Fledge
  TIMEOUT: 'user',
  // AWS refused Fledge past its retries, or Fledge itself failed: the operator acts
  AWS_LIMIT: 'control-plane',
  INTERNAL: 'control-plane',
};

export function failureSide(code: ErrorCode): FailureSide {
  return FAILURE_SIDE[code];
}
