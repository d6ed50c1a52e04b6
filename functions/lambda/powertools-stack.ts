/**
 * The middleware every Lambda kind shares (functions/lambda/{http,task,event}-handler.ts): a
 * trace segment around the invocation, the Lambda context on every log line and the keys a
 * handler appended removed when it ends (a warm runtime must not carry one invocation's
 * environment name into the next), and the metrics it recorded flushed once, also on error.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

export function withPowertools<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>(fn)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
