/** Powertools utilities, created once per Lambda runtime (module scope). */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'fledge' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Fledge',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'fledge',
});
