/**
 * Hooks: one-off Fargate tasks the workflows run from the environment's own task definition
 * (same image, variables, secrets and network) with the `app` container's command replaced
 * (docs/design.md "Hooks"). The spec's `hooks` and the plan the workflows read (`plan.hooks`), in
 * the shape issue 17 fixes (its spec side, with the full validation, is H17a's: this file is the
 * minimum the workflows need until then). Pure.
 */
import { z } from 'zod';

export const HOOK_NAMES = ['afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export const DEFAULT_HOOK_TIMEOUT_SECONDS = 600;
/** What a hook's state waits beyond its own timeout: Fargate provisioning the task and pulling the image. */
export const HOOK_PROVISIONING_SECONDS = 300;

export const hookSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1).max(64).meta({ description: 'the command the `app` container runs instead of its own (exec form)' }),
  timeoutSeconds: z.int().min(10).max(3600).default(DEFAULT_HOOK_TIMEOUT_SECONDS).meta({ description: 'longest the command may run' }),
});

export const hooksSchema = z.strictObject(Object.fromEntries(HOOK_NAMES.map((name) => [name, hookSchema.optional()])) as Record<HookName, z.ZodOptional<typeof hookSchema>>);

export type Hook = z.output<typeof hookSchema>;
export type Hooks = z.output<typeof hooksSchema>;

/** What a workflow needs of one hook (`plan.hooks.<name>`). */
export interface HookPlan {
  command: string[];
  timeoutSeconds: number;
  /** the RunTask state's TimeoutSecondsPath: the hook's own timeout plus the time Fargate takes to provision and pull */
  stateTimeoutSeconds: number;
}

export function renderHooks(hooks: Hooks | undefined): Partial<Record<HookName, HookPlan>> | undefined {
  if (!hooks) return undefined;
  const plans = Object.fromEntries(
    HOOK_NAMES.flatMap((name) => {
      const hook = hooks[name];
      return hook ? [[name, { command: hook.command, timeoutSeconds: hook.timeoutSeconds, stateTimeoutSeconds: hook.timeoutSeconds + HOOK_PROVISIONING_SECONDS }]] : [];
    }),
  );
  return Object.keys(plans).length > 0 ? plans : undefined;
}
