/** How command outcomes and records become HTTP answers (status, ETag, Location). */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { HttpResponse } from '#commons/http-handler.ts';
import { metrics } from '#commons/powertools.ts';
import type { CommandResult, Outcome } from '#domain/environment-commands.ts';
import { toRepresentation, type EnvironmentRecord } from '#domain/environment.ts';

const STATUS_BY_OUTCOME: Record<Outcome, number> = { created: 201, started: 202, recorded: 202, unchanged: 200 };

export function environmentResponse(record: EnvironmentRecord, status = 200, headers: Record<string, string> = {}): HttpResponse {
  return { status, body: toRepresentation(record), headers: { etag: `"${record.version}"`, ...headers } };
}

export function commandResponse(result: CommandResult): HttpResponse {
  const status = STATUS_BY_OUTCOME[result.outcome];
  const operation = result.record.operation;
  if (result.outcome !== 'unchanged' && operation) metrics.addMetric(`Accepted_${operation.type}`, MetricUnit.Count, 1);
  const headers: Record<string, string> = status === 201 ? { location: `/v1/environments/${result.record.name}` } : {};
  return environmentResponse(result.record, status, headers);
}
