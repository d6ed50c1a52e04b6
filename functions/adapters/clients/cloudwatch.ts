import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { clientFor } from '../aws-clients.ts';

/** CloudWatch (the simulator's in local mode). */
export const cloudwatchClient = () => clientFor('cloudwatch', () => new CloudWatchClient({}));
