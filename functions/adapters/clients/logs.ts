import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { clientFor } from '../aws-clients.ts';

/** CloudWatch Logs: the environments' container output (the simulator's in local mode). */
export const logsClient = () => clientFor('logs', () => new CloudWatchLogsClient({}));
