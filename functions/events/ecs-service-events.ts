/**
 * ECS service events (EventBridge) -> the workflow step waiting for steady state
 * (functions/commands/steady-state-events.ts).
 *
 * Rule pattern: source `aws.ecs`, detail-type "ECS Service Action" (SERVICE_STEADY_STATE,
 * SERVICE_TASK_START_IMPAIRED) and "ECS Deployment State Change"
 * (SERVICE_DEPLOYMENT_COMPLETED, SERVICE_DEPLOYMENT_FAILED). The service ARN in `resources`
 * names the environment (service name = environment name).
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { answerWaitingStep, type EcsServiceEventDetail, type Outcome } from '#commands/steady-state-events.ts';
import { serviceNameOfArn } from '#domain/heal-signals.ts';
import { eventHandler } from '#lambda/event-handler.ts';

export type EcsServiceEvent = EventBridgeEvent<string, EcsServiceEventDetail>;

async function handle(event: EcsServiceEvent): Promise<{ outcomes: Outcome[] }> {
  const eventName = event.detail?.eventName ?? '';
  const services = (event.resources ?? []).filter((arn) => arn.includes(':service/'));
  const outcomes: Outcome[] = [];
  for (const arn of services) {
    const name = serviceNameOfArn(arn);
    outcomes.push(name ? await answerWaitingStep(name, eventName, event.detail ?? {}, event.time) : 'ignored');
  }
  return { outcomes };
}

export const handler = eventHandler(handle);
