/**
 * Hooks: commands the workflows run as one-off Fargate tasks of the environment's own
 * task definition (`ecs:runTask.sync`, the `app` container's command overridden). The limits a
 * hook's command meets, and what the plan hands the workflow (`plan.hooks`). Pure.
 */
import { APP_CONTAINER } from './sidecars.ts';

export const HOOK_NAMES = ['afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export const MAX_COMMAND_ITEMS = 64;
export const MIN_HOOK_TIMEOUT_SECONDS = 10;
export const MAX_HOOK_TIMEOUT_SECONDS = 3600;
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 600;

/**
 * What the workflow's RunTask state waits beyond the command's own timeout: Fargate provisions
 * the task, pulls the image and starts the sidecars first (a cold pull of a large image takes
 * minutes), and that time is not the command's.
 */
export const HOOK_PROVISIONING_SECONDS = 300;

/**
 * RunTask `overrides`: "A total of 8192 characters are allowed for overrides. This limit includes
 * the JSON formatting characters of the override structure." (Amazon ECS API Reference, RunTask,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html). A hook's override
 * is `{"containerOverrides":[{"name":"app","command":[...]}]}`.
 */
export const MAX_OVERRIDE_CHARACTERS = 8192;


/** The characters ECS counts for a hook's override: its JSON. */
export function overrideCharacters(command: readonly string[]): number {
  return JSON.stringify({ containerOverrides: [{ name: APP_CONTAINER, command }] }).length;
}

/** Why ECS would refuse this command's override, or undefined. */
export function commandOverrideProblem(command: readonly string[]): string | undefined {
  const characters = overrideCharacters(command);
  if (characters <= MAX_OVERRIDE_CHARACTERS) return undefined;
  return `the command's override is ${characters} characters as JSON; ECS RunTask allows ${MAX_OVERRIDE_CHARACTERS} (8 KiB)`;
}

export interface Hook {
  command: string[];
  timeoutSeconds: number;
}

export type Hooks = Partial<Record<HookName, Hook>>;

/** A hook as the workflow runs it (`plan.hooks.<name>`). */
export interface HookPlan extends Hook {
  /** the RunTask state's TimeoutSeconds: the command's timeout and Fargate's provisioning */
  stateTimeoutSeconds: number;
}

/** `plan.hooks`: the spec's hooks with their state timeouts, or undefined when it has none. */
export function renderHooks(hooks: Hooks | undefined): Partial<Record<HookName, HookPlan>> | undefined {
  if (!hooks) return undefined;
  const rendered: Partial<Record<HookName, HookPlan>> = {};
  for (const name of HOOK_NAMES) {
    const hook = hooks[name];
    if (hook) rendered[name] = { command: [...hook.command], timeoutSeconds: hook.timeoutSeconds, stateTimeoutSeconds: hook.timeoutSeconds + HOOK_PROVISIONING_SECONDS };
  }
  return Object.keys(rendered).length > 0 ? rendered : undefined;
}
