/**
 * Powertools utilities, created once per Lambda runtime (module scope). The wrappers of
 * functions/lambda/ attach them to each invocation: context and keys on the logger (reset after
 * every invocation), metrics flushed at the end, and a trace segment around the handler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'fledge';

export const logger = new Logger({ serviceName });

/**
 * Metrics warns through its own console (not the logger's level) whenever a flush finds no
 * metric, and logMetrics flushes after every invocation: most Lambdas record none, so every
 * task and event invocation (and every test) printed that warning. Its warnings go through the
 * logger instead (Metrics' `logger` option), that routine one at debug level; the others
 * (a bad or overwritten dimension) stay warnings.
 */
const EMPTY_FLUSH = 'No application metrics to publish';
export const metricsWarnings = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => (message.startsWith(EMPTY_FLUSH) ? logger.debug(message) : logger.warn(message)),
  error: (message: string) => logger.error(message),
};

export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Fledge', serviceName, logger: metricsWarnings });
/** Active only inside Lambda with tracing on (Powertools turns itself off elsewhere, e.g. in local mode and tests). */
export const tracer = new Tracer({ serviceName });
