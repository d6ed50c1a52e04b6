/**
 * The health check the environment's target group has now, for a step that hands a converge
 * pass over (FailOperation, FinishHeal): undefined when it cannot be read, and the next pass
 * then has nothing to restore after a rollback (it deploys the newest accepted spec anyway).
 */
import { currentHealthCheck } from '#adapters/fargate-resources.ts';
import { logger } from '#runtime/powertools.ts';

export async function healthCheckNow(
  name: string,
  scope: Parameters<typeof currentHealthCheck>[1],
): Promise<Awaited<ReturnType<typeof currentHealthCheck>>> {
  try {
    return await currentHealthCheck(name, scope);
  } catch (error) {
    logger.warn('could not read the target group\'s health check', { error: (error as Error).message });
    return undefined;
  }
}
