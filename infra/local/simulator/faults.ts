/** Fault injection (infra/local/README.md `POST /_local/faults`): what is broken, per environment and globally. */
import type { SimService, SimulatedAwsError } from './errors.ts';

export const FAULTS = ['crash', 'crashloop', 'unhealthy', 'delete-service', 'drift-scale', 'throttle', 'hostile', 'clear'] as const;
export type FaultName = (typeof FAULTS)[number];

export interface FaultRequest {
  environment?: string;
  fault: FaultName;
  /** throttle: how many calls to throttle; drift-scale: the desired count to set */
  count?: number;
  /** hostile: switch hostile mode on or off */
  enabled?: boolean;
}

export interface FaultResult {
  fault: FaultName;
  environment?: string;
  /** what happened, for the operator */
  message: string;
  /** calls still to be throttled (throttle/clear) */
  throttledCallsRemaining: number;
  /** whether hostile mode is on (after the fault) */
  hostile: boolean;
}

/** The environment the fault names has nothing to break (HTTP 404). */
export class FaultTargetNotFound extends Error {
  override readonly name = 'FaultTargetNotFound';
}

/** The fault request itself is wrong (HTTP 400). */
export class InvalidFaultRequest extends Error {
  override readonly name = 'InvalidFaultRequest';
}

interface EnvironmentFaults {
  crashloopImages: Set<string>;
  unhealthy: boolean;
}

/** The next calls of one action answer an AWS error (both doors: Step Functions and the SDK clients). */
interface ActionFault {
  action: string;
  error: (service: SimService) => SimulatedAwsError;
  remaining: number;
  /** the call is applied first and its answer then lost (a 5xx after the change landed), instead of refused */
  answerLost: boolean;
}

/** A pending fault of an action, as the simulator's dispatch takes it. */
export interface TakenActionFault {
  error: SimulatedAwsError;
  /** apply the call, then answer `error` */
  answerLost: boolean;
}

export class FaultState {
  throttleRemaining = 0;
  /** the throttle fault cycles through a call's throttling shapes, so tests see each */
  throttleCycle = 0;
  private readonly byEnvironment = new Map<string, EnvironmentFaults>();
  private actionFaults: ActionFault[] = [];

  /**
   * The next `times` calls of `action` fail with `error` (a workflow test's fault at one step; not
   * offered by `/_local/faults`). Each attempt counts: an SDK client's own retries of a throttle
   * take one each, as they would reach AWS. `answerLost`: each of those calls is applied and then
   * answers the error (AWS made the change, its answer was lost: a 5xx, a dropped connection), so a
   * retry meets the change already made.
   */
  failNext(action: string, error: ActionFault['error'], times = 1, answerLost = false): void {
    this.actionFaults.push({ action, error, remaining: times, answerLost });
  }

  /** The error this call must answer, if a fault of its action is still pending. */
  takeActionFault(service: SimService, action: string): TakenActionFault | undefined {
    const fault = this.actionFaults.find((f) => f.action === action && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.actionFaults = this.actionFaults.filter((f) => f !== fault);
    return { error: fault.error(service), answerLost: fault.answerLost };
  }

  forEnvironment(environment: string): EnvironmentFaults {
    let faults = this.byEnvironment.get(environment);
    if (!faults) {
      faults = { crashloopImages: new Set(), unhealthy: false };
      this.byEnvironment.set(environment, faults);
    }
    return faults;
  }

  clear(environment?: string): void {
    if (environment === undefined) {
      this.byEnvironment.clear();
      this.throttleRemaining = 0;
      this.actionFaults = [];
    } else {
      this.byEnvironment.delete(environment);
    }
  }

  /** Consume one throttled call; true when this call must be throttled. */
  takeThrottle(): boolean {
    if (this.throttleRemaining <= 0) return false;
    this.throttleRemaining -= 1;
    return true;
  }

  failsAtStart(environment: string | undefined, image: string): boolean {
    return environment !== undefined && (this.byEnvironment.get(environment)?.crashloopImages.has(image) ?? false);
  }

  failsHealthChecks(environment: string | undefined): boolean {
    return environment !== undefined && (this.byEnvironment.get(environment)?.unhealthy ?? false);
  }

  active(): Record<string, { crashloopImages: string[]; unhealthy: boolean }> {
    return Object.fromEntries(
      [...this.byEnvironment].map(([env, f]) => [env, { crashloopImages: [...f.crashloopImages], unhealthy: f.unhealthy }]),
    );
  }
}

/** Validate a fault request body (the HTTP front answers 400 with these messages). */
export function parseFaultRequest(body: unknown): FaultRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidFaultRequest('the body must be a JSON object');
  const { environment, fault, count, enabled, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new InvalidFaultRequest(`unknown field(s): ${unknown.join(', ')}`);
  if (typeof fault !== 'string' || !(FAULTS as readonly string[]).includes(fault)) {
    throw new InvalidFaultRequest(`fault must be one of ${FAULTS.join(', ')}`);
  }
  if (environment !== undefined && (typeof environment !== 'string' || environment.length === 0)) {
    throw new InvalidFaultRequest('environment must be a non-empty string');
  }
  if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 100_000)) {
    throw new InvalidFaultRequest('count must be an integer between 0 and 100000');
  }
  if (fault === 'throttle' && (count === undefined || count < 1)) throw new InvalidFaultRequest('throttle needs "count": the number of calls to throttle (at least 1)');
  if (fault === 'drift-scale' && count !== undefined && count > 10) throw new InvalidFaultRequest('drift-scale count must be between 0 and 10');
  if (fault === 'hostile') {
    if (typeof enabled !== 'boolean') throw new InvalidFaultRequest('hostile needs "enabled": true or false');
    if (environment !== undefined || count !== undefined) throw new InvalidFaultRequest('hostile takes only "enabled" (it is account-wide)');
    return { fault, enabled };
  }
  if (enabled !== undefined) throw new InvalidFaultRequest('"enabled" is only for the hostile fault');
  if (fault !== 'throttle' && fault !== 'clear' && environment === undefined) throw new InvalidFaultRequest(`${fault} needs "environment"`);
  return { fault: fault as FaultName, environment: environment as string | undefined, count: count as number | undefined };
}
