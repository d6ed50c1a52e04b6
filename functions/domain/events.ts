/**
 * The entries of an environment's history (`GET /v1/environments/{name}/events`), and the one
 * way to write one: every request and every workflow step builds its events here, so each
 * says when, what, which operation and who in the same shape.
 */

export interface EnvironmentEvent {
  at: string;
  type: string;
  message: string;
  operationId?: string;
  actor: string;
  /** structured facts (resource ARNs of a receipt, skipped spec versions...) */
  details?: Record<string, unknown>;
}

/** The operation a workflow step runs for, as its state carries it: its events name both. */
export interface OperationOf {
  operationId: string;
  actor: string;
}

export type EventFacts = {
  type: string;
  message: string;
  details?: Record<string, unknown>;
  /** when it happened (ISO time); now when not given */
  at?: string;
} & ({ state: OperationOf } | { actor: string; operationId?: string });

export function environmentEvent(facts: EventFacts): EnvironmentEvent {
  const { actor, operationId } = 'state' in facts ? facts.state : facts;
  return {
    at: facts.at ?? new Date().toISOString(),
    type: facts.type,
    message: facts.message,
    ...(operationId !== undefined ? { operationId } : {}),
    actor,
    ...(facts.details ? { details: facts.details } : {}),
  };
}

/** Builds the events of one workflow step: all at `at`, for the operation and actor of `state`. */
export type StepEvent = (type: string, message: string, details?: Record<string, unknown>) => EnvironmentEvent;

export function stepEvents(state: OperationOf, at: string): StepEvent {
  return (type, message, details) => environmentEvent({ at, type, message, state, details });
}
