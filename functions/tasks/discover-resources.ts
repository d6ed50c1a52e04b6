/**
 * DiscoverResources (teardown): finds everything Fledge made for the environment by name
 * and tag — not by what the record remembers — so a half-built or already half-deleted
 * environment is torn down completely, and a second teardown finds nothing left to do.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { discoverResources } from '#adapters/fargate-resources.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { state } = payload;
  const config = runtimeConfig();
  const resources = await discoverResources(config, state.name, `${state.name}.${config.baseDomain}`);
  logger.info('discovered resources', {
    service: resources.serviceArn,
    targetGroups: resources.targetGroupArns.length,
    rules: resources.ruleArns.length,
    sharedTaskDefinitions: resources.sharedTaskDefinitionArns.length,
    alarms: resources.alarmArns.length,
  });
  return { ...state, resources };
}

export const handler = taskHandler(handle);
