/**
 * An entry of an environment's history (`GET /v1/environments/{name}/events`), and the one
 * way to build one. Pure: the event log (functions/adapters/event-log.ts) stores them.
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

/** Who wrote the event, for which operation, and when (now unless given). */
export interface EventSource {
  actor: string;
  operationId?: string;
  at?: string;
}

export function environmentEvent(type: string, message: string, source: EventSource, details?: Record<string, unknown>): EnvironmentEvent {
  return {
    at: source.at ?? new Date().toISOString(),
    type,
    message,
    actor: source.actor,
    operationId: source.operationId,
    ...(details ? { details } : {}),
  };
}
