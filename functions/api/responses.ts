/** How command outcomes and records become HTTP answers (status, ETag, Location). */
import type { HttpResponse } from '#lambda/http-handler.ts';
import { logger } from '#runtime/powertools.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import { fargatePrice, type ConfigurationError } from '#runtime/config.ts';
import type { CommandResult, Outcome } from '#commands/environment-commands.ts';
import { estimateCost, totalCost, type Cost } from '#domain/cost.ts';
import { toRepresentation, type EnvironmentRecord } from '#domain/environment.ts';

const STATUS_BY_OUTCOME: Record<Outcome, number> = { created: 201, started: 202, recorded: 202, unchanged: 200 };

/**
 * The price costs are estimated at; undefined when the region has none, or when the operator's
 * FLEDGE_FARGATE_PRICES is invalid: an answer is rendered after its command ran, so a bad price
 * must not turn a done mutation into a 500 (the error goes to the log; CDK checks the context at synth).
 */
function price() {
  try {
    return fargatePrice();
  } catch (error) {
    logger.error('no cost estimates: the price configuration is invalid', { error: (error as ConfigurationError).message });
    return undefined;
  }
}

/** The environment as the API shows it: with its estimated cost now, when the region's price is known (README "Cost"). */
export function environmentView(record: EnvironmentRecord, now = new Date()) {
  const known = price();
  return toRepresentation(record, known && estimateCost(record, known, now));
}

/** What these environments cost together now; undefined when the region's price is not known. */
export function costOf(records: readonly EnvironmentRecord[], now = new Date()): Cost | undefined {
  const known = price();
  return known && totalCost(records, known, now);
}

export function environmentResponse(record: EnvironmentRecord, status = 200, headers: Record<string, string> = {}): HttpResponse {
  return { status, body: environmentView(record), headers: { etag: `"${record.version}"`, ...headers } };
}

export function commandResponse(result: CommandResult): HttpResponse {
  const status = STATUS_BY_OUTCOME[result.outcome];
  const operation = result.record.operation;
  if (result.outcome !== 'unchanged' && operation) emitMetric('OperationsAccepted', 1, { operation: operation.type });
  const headers: Record<string, string> = status === 201 ? { location: `/v1/environments/${result.record.name}` } : {};
  return environmentResponse(result.record, status, headers);
}

/**
 * Lambda answers a synchronous invocation (API Gateway's) with at most 6 MB: "Invocation
 * payload (request and response): 6 MB (synchronous)", where MB means 1,024 KB (Lambda quotas,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The
 * response is the JSON of `{statusCode, headers, body}` with the body a JSON string inside it,
 * so every `"` and `\` of an item counts twice. A list page keeps items while they fit in 5 MB
 * (1 MB of margin for the envelope, headers and cursor).
 */
export const RESPONSE_ITEMS_BUDGET_BYTES = 5_000_000;

/** How many of `items` (at least one) fit the response budget once encoded as the Lambda payload encodes them. */
export function itemsThatFit(items: unknown[], budget = RESPONSE_ITEMS_BUDGET_BYTES): number {
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    // the item's size inside the body string inside the payload: JSON of the JSON, less its quotes, plus a comma
    used += Buffer.byteLength(JSON.stringify(JSON.stringify(items[i])), 'utf8') - 1;
    if (used > budget) return Math.max(1, i);
  }
  return items.length;
}
