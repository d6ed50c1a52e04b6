import { ECSClient } from '@aws-sdk/client-ecs';
import { clientFor } from '../aws-clients.ts';

/** ECS (the simulator's in local mode). */
export const ecsClient = () => clientFor('ecs', () => new ECSClient({}));
