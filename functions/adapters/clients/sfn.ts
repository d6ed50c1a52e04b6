import { SFNClient } from '@aws-sdk/client-sfn';
import { clientFor } from '../aws-clients.ts';

/** Step Functions (the simulator's in local mode). */
export const sfnClient = () => clientFor('sfn', () => new SFNClient({}));
