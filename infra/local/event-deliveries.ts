/**
 * What local mode's EventBridge (infra/local/main.ts `startEventBus`) delivered: for each event,
 * which rule matched it, and what the rule's handler answered (functions/events/heal-trigger.ts
 * answers `{outcome, environment, reason}`). Served by `GET /_local/deliveries`, so a test can
 * prove that a given rule, not another one, carried an event to its handler (CloudWatch shows
 * the same on AWS as each rule's `MatchedEvents`/`Invocations` metrics and the handler's log).
 */
export interface EventDelivery {
  /** when the handler answered (or failed for the last time) */
  at: string;
  /** the local rule: `ecs-service-events` or `heal-<id>` of functions/contract/heal-events.ts */
  rule: string;
  eventId: string;
  detailType: string;
  eventName?: string;
  resources: string[];
  /** the handler's answer */
  result?: unknown;
  /** the last attempt's error, when every attempt failed */
  error?: string;
}

/** The last `capacity` deliveries, oldest first. */
export class DeliveryLog {
  private readonly items: EventDelivery[] = [];

  constructor(private readonly capacity = 2_000) {}

  record(delivery: EventDelivery): void {
    this.items.push(delivery);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  list(): EventDelivery[] {
    return [...this.items];
  }
}
