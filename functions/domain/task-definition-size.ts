/**
 * The size of the RegisterTaskDefinition request a spec renders to, checked at the API so a spec
 * that ECS would refuse is a 400 at once rather than a 201 whose workflow fails at
 * RegisterTaskDefinition. Pure.
 *
 * ECS caps a task definition at 64 KiB ("Task definition max size", Amazon ECS Developer Guide,
 * "Amazon ECS service quotas"; not confirmed with the search tool at the time of writing: the
 * quota table it found lists the other ECS quotas but not this row). The request is counted as
 * the JSON ECS receives: family, the constant fields, the containers, the tags, in UTF-8 bytes.
 * Key names are counted in the plan's PascalCase: the API's camelCase names have the same lengths.
 */
import { TASK_DEFINITION_CONSTANTS, TASK_DEFINITION_FAMILY_PREFIX, type ResourcePlan } from './resource-plan.ts';

export const MAX_TASK_DEFINITION_BYTES = 64 * 1024;

/** The request's bytes: the rendered definition, a family name of its real length, the constants and the tags RegisterTaskDefinition sends. */
export function taskDefinitionBytes(definition: Omit<ResourcePlan['taskDefinition'], 'Family'>): number {
  const hash = '0'.repeat(32);
  const request = {
    Family: `${TASK_DEFINITION_FAMILY_PREFIX}${hash}`,
    ...TASK_DEFINITION_CONSTANTS,
    ...definition,
    Tags: [
      { Key: 'fledge:managed-by', Value: 'fledge' },
      { Key: 'fledge:task-definition-hash', Value: hash },
    ],
  };
  return new TextEncoder().encode(JSON.stringify(request)).length;
}

/** A 400's message when the rendered definition is over ECS's limit, else undefined. */
export function taskDefinitionSizeProblem(definition: Omit<ResourcePlan['taskDefinition'], 'Family'>): string | undefined {
  const bytes = taskDefinitionBytes(definition);
  if (bytes <= MAX_TASK_DEFINITION_BYTES) return undefined;
  return `the task definition this spec renders is ${bytes} bytes as JSON; ECS allows ${MAX_TASK_DEFINITION_BYTES} (64 KiB): shorten the environment variables, secrets or sidecars`;
}
