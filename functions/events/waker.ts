/**
 * The waker: while an environment sleeps, its listener rule forwards to this Lambda (one
 * shared Lambda target group on the ALB), so a request to its URL does not meet a dead end.
 * It starts the wake (the scale workflow back to the count the environment slept from, actor
 * `request`) and answers a small page that refreshes itself until the environment is back —
 * by then the rule points at the environment's own target group again and the refresh lands
 * on the application.
 *
 * Concurrent requests start one wake between them (the scale is a conditional write). A
 * request that reaches the waker although the environment runs means the rule was not moved
 * back (a failed step): the waker starts a scale to the same count, whose last step moves it.
 * Locally the HTTP front calls this same handler for a sleeping environment's page.
 */
import type { ALBEvent, ALBResult } from 'aws-lambda';
import { logger } from '#runtime/powertools.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import { runtimeConfig } from '#runtime/config.ts';
import type { ErrorCode } from '#domain/environment.ts';
import { NAME_PATTERN } from '#domain/environment-spec.ts';
import { hasOperationInFlight } from '#domain/lifecycle.ts';
import { requestReachedWaker } from '#commands/wake-commands.ts';
import { eventHandler } from '#lambda/event-handler.ts';

/** Seconds between refreshes of the waiting page (a Fargate task needs ~30-60 s to start). */
export const REFRESH_SECONDS = 5;

/** What the public page says about each error code (the API's `operation.error.message` has the details). */
const ERROR_SUMMARIES: Record<ErrorCode, string> = {
  IMAGE_PULL_FAILED: 'its image could not be pulled',
  TASK_EXITED: 'its container stopped on its own',
  OUT_OF_MEMORY: 'its container ran out of memory',
  HEALTH_CHECK_FAILED: 'it failed its health checks',
  HOOK_FAILED: 'one of its hooks failed',
  QUOTA_EXCEEDED: 'a quota was reached',
  DNS_NAME_IN_USE: 'its name is already used in the DNS zone by something else',
  AWS_LIMIT: 'an AWS limit was reached',
  TIMEOUT: 'it did not become ready in time',
  INTERNAL: 'something went wrong while deploying it',
};

/** `pr-42.preview.example.com[:443]` -> `pr-42` for base domain `preview.example.com`. */
export function environmentNameFromHost(host: string | undefined, baseDomain: string): string | undefined {
  if (!host) return undefined;
  const strip = (value: string) => value.trim().toLowerCase().replace(/\.$/, '');
  const withPort = strip(host);
  const domain = strip(baseDomain);
  const candidates = [withPort, withPort.replace(/:\d+$/, '')];
  const domains = [domain, domain.replace(/:\d+$/, '')];
  for (const h of candidates) {
    for (const d of domains) {
      if (!h.endsWith(`.${d}`)) continue;
      const name = h.slice(0, -(d.length + 1));
      if (NAME_PATTERN.test(name)) return name;
    }
  }
  return undefined;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(status: number, title: string, lines: string[], refreshSeconds?: number): ALBResult {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<style>body{font-family:system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#222;line-height:1.5}h1{font-size:1.4rem}.muted{color:#777;font-size:.9rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}
${refreshSeconds ? `<p class="muted">This page reloads itself every ${refreshSeconds} seconds.</p>` : ''}
<p class="muted">Fledge preview environments sleep when nobody uses them and wake on the first request.</p>
</body></html>
`;
  const statusDescription = { 200: '200 OK', 404: '404 Not Found', 503: '503 Service Unavailable' }[status] ?? String(status);
  return {
    statusCode: status,
    statusDescription,
    isBase64Encoded: false,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...(refreshSeconds ? { 'retry-after': String(refreshSeconds) } : {}),
    },
    body,
  };
}

async function handle(event: ALBEvent): Promise<ALBResult> {
  const config = runtimeConfig();
  const host = event.headers?.host ?? event.headers?.Host ?? event.multiValueHeaders?.host?.[0];
  const name = environmentNameFromHost(host, config.baseDomain);
  const requestId = event.headers?.['x-amzn-trace-id'] ?? crypto.randomUUID();
  logger.appendKeys({ environment: name, requestId });
  try {
    if (!name) return page(404, 'No preview environment here', [`${host ?? 'This host'} is not the address of a Fledge environment.`]);
    const visit = await requestReachedWaker(name, { actor: 'request', requestId });
    if (visit.kind === 'gone') {
      return page(404, `No environment named ${name}`, [visit.record?.status === 'DELETING' ? 'It is being deleted.' : 'It does not exist (any more).']);
    }
    if (visit.kind === 'waking') {
      if (visit.started) {
        emitMetric('WakesByRequest', 1);
      }
      logger.info(visit.started ? 'wake started by a request' : 'a wake is already under way', { path: event.path });
      const count = visit.record?.spec.desiredCount;
      return page(503, `Waking up ${name}…`, [
        `${name} was asleep because nobody used it for a while. It is starting again now${count !== undefined ? ` (${count} task${count === 1 ? '' : 's'})` : ''}.`,
        'This usually takes under a minute; you will land on it as soon as it answers.',
      ], REFRESH_SECONDS);
    }
    if (visit.kind === 'running') {
      if (visit.repair) {
        logger.warn('the listener rule of a running environment still points at the waker; moving it back', { started: visit.repair.started });
      }
      return page(503, `${name} is back`, [`${name} is running again; this page takes you there.`], 1);
    }
    const { record } = visit;
    // DELETING is `gone` above: what is left in flight is starting or changing
    if (hasOperationInFlight(record.status)) {
      return page(503, `${name} is starting…`, [`${name} is ${record.status.toLowerCase()} right now; it will answer in a moment.`], REFRESH_SECONDS);
    }
    // a public page: the code and a fixed sentence for it, never the stored message (docs/security.md "What reaches callers")
    const error = record.operation?.error;
    return page(503, `${name} is not available`, [
      `${name} is ${record.status}${error ? `: ${error.code} (${ERROR_SUMMARIES[error.code] ?? ERROR_SUMMARIES.INTERNAL})` : ''}.`,
      'Its owners can see why in its events, and PUT its spec again to retry.',
    ], 30);
  } catch (error) {
    logger.error('the waker failed', { error: error as Error });
    return page(503, 'Please try again in a moment', ['The environment could not be woken just now.'], 10);
  }
}

export const handler = eventHandler(handle);
