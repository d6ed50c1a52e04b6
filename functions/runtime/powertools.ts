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
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Fledge', serviceName });
/** Active only inside Lambda with tracing on (Powertools turns itself off elsewhere, e.g. in local mode and tests). */
export const tracer = new Tracer({ serviceName });
