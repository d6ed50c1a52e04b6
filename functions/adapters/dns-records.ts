/**
 * Per-environment alias records in the operator's Route 53 hosted zone (docs/design.md "DNS
 * per environment"): the heal's look at one record, the orphan sweep's listing of the base
 * domain's records and its batched deletion. Route 53 meters each request in the account's bucket
 * and its action's (50, refilled 10 a second) and each record change in a change-throughput bucket
 * (Route 53 Developer Guide, "Throttling for Amazon Route 53 API requests",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html), so a
 * read asks for exactly what it needs, deletions go many (not too many) to a request, and a
 * throttled deletion backs off and tries again.
 */
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type ListResourceRecordSetsCommandOutput } from '@aws-sdk/client-route-53';
import { batches, dnsDomain, fqdn, SWEEP_DELETES_PER_REQUEST, type AliasRecord } from '#domain/dns-records.ts';
import { route53Client } from './clients/route53.ts';
import { CallCounter } from './tagged-resources.ts';

/** A name holds one record set of each type (more only with routing policies): a page this long shows what is there. */
const RECORDS_AT_A_NAME = 20;

/**
 * Every record named `recordName` (fully qualified), of any type: one ListResourceRecordSets
 * starting at the name (Route 53 lists a name's records together, by type). Any of them that is
 * not Fledge's alias makes the name the operator's (functions/domain/dns-records.ts `dnsRecordState`);
 * should the page end on the same name, what it holds is enough to say so.
 */
export async function findRecordsNamed(hostedZoneId: string, recordName: string): Promise<AliasRecord[]> {
  const out = await route53Client().send(
    new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: recordName, MaxItems: RECORDS_AT_A_NAME }),
  );
  return ((out.ResourceRecordSets ?? []) as AliasRecord[]).filter((record) => fqdn(record.Name) === fqdn(recordName));
}

/**
 * Every record under `baseDomain` (its apex and the names below it). Route 53 lists names
 * ordered label by label from the right (ListResourceRecordSets, "Sorting"), so the base
 * domain's records are one run starting at its apex: the listing stops at the first name
 * outside it, page by page (300 a page).
 */
export async function listRecordsUnder(hostedZoneId: string, baseDomain: string, counter = new CallCounter()): Promise<AliasRecord[]> {
  const apex = `${dnsDomain(baseDomain)}.`;
  const under = (name: string) => fqdn(name) === apex || fqdn(name).endsWith(`.${apex}`);
  const records: AliasRecord[] = [];
  let start: { name: string; type?: string } | undefined = { name: apex };
  while (start) {
    const out: ListResourceRecordSetsCommandOutput = await counter.count(route53Client().send(
      new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: start.name, ...(start.type ? { StartRecordType: start.type as 'A' } : {}) }),
    ));
    const page = (out.ResourceRecordSets ?? []) as AliasRecord[];
    const inside = page.filter((r) => under(r.Name));
    records.push(...inside);
    const leftTheDomain = inside.length < page.length;
    start = out.IsTruncated && !leftTheDomain && out.NextRecordName ? { name: out.NextRecordName, type: out.NextRecordType } : undefined;
  }
  return records;
}

/** The records an InvalidChangeBatch names as not found (deleted meanwhile: by a teardown, by hand). */
function notFound(error: unknown): Set<string> {
  const messages = (error as { messages?: string[] }).messages ?? [(error as Error).message];
  const names = new Set<string>();
  for (const message of messages) {
    for (const match of message.matchAll(/Tried to delete resource record set \[name='([^']+)', type='A'\] but it was not found/g)) names.add(fqdn(match[1]!));
  }
  return names;
}

/** Route 53's throttling (`Throttling`, HTTP 400) and a zone still applying an earlier change: worth another try later. */
const isBusy = (error: unknown) => ['Throttling', 'ThrottlingException', 'PriorRequestNotComplete'].includes((error as Error).name);

/** A batch throttled this many times in a row is split in halves (it may be larger than the change bucket). */
const THROTTLES_BEFORE_SPLIT = 2;
/** A single record throttled this many times in a row ends the sweep's deletions (the next run goes on). */
const THROTTLES_BEFORE_GIVING_UP = 5;
/** Full-jitter backoff: up to 0.5 s, doubling per throttle in a row, at most 8 s. */
const backoffMs = (inARow: number) => Math.random() * Math.min(8000, 500 * 2 ** (inARow - 1));
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface AliasRecordDeletion {
  /** the names deleted (fully qualified, lower case) */
  deleted: string[];
  /** why the others were not (the error that stopped the deletions), if any */
  failure?: Error;
}

/**
 * Deletes `records` (exactly as listed: Route 53 deletes a record only when the values match),
 * SWEEP_DELETES_PER_REQUEST to a ChangeResourceRecordSets. A batch is atomic: when records of it
 * were deleted meanwhile, Route 53 rejects the whole batch (InvalidChangeBatch, "not found"), and
 * it goes again without them, as often as that names new ones. A throttled batch waits (full
 * jitter, 0.5 s doubling to 8 s) and goes again; throttled twice in a row it is split in halves.
 * Any other error, or one record throttled 5 times in a row, stops the deletions: what was deleted
 * so far is returned with the failure.
 */
export async function deleteAliasRecords(
  hostedZoneId: string,
  records: readonly AliasRecord[],
  counter = new CallCounter(),
  sleep: (ms: number) => Promise<void> = realSleep,
): Promise<AliasRecordDeletion> {
  const deleted: string[] = [];
  const queue = batches(records, SWEEP_DELETES_PER_REQUEST);
  let throttledInARow = 0;
  while (queue.length > 0) {
    const batch = queue.shift()!;
    try {
      await counter.count(route53Client().send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          ChangeBatch: {
            Comment: 'Fledge cleanup: alias records of environments that are gone',
            Changes: batch.map((record) => ({ Action: 'DELETE' as const, ResourceRecordSet: record as never })),
          },
        }),
      ));
      deleted.push(...batch.map((r) => fqdn(r.Name)));
      throttledInARow = 0;
    } catch (error) {
      if (isBusy(error)) {
        throttledInARow++;
        if (batch.length === 1 && throttledInARow >= THROTTLES_BEFORE_GIVING_UP) return { deleted, failure: error as Error };
        if (batch.length > 1 && throttledInARow >= THROTTLES_BEFORE_SPLIT) {
          const half = Math.ceil(batch.length / 2);
          queue.unshift(batch.slice(0, half), batch.slice(half));
          throttledInARow = 0;
        } else queue.unshift(batch);
        await sleep(backoffMs(Math.max(1, throttledInARow)));
        continue;
      }
      const gone = (error as Error).name === 'InvalidChangeBatch' ? notFound(error) : new Set<string>();
      const rest = batch.filter((r) => !gone.has(fqdn(r.Name)));
      // progress only: each round drops at least one record, so this ends
      if (rest.length === batch.length) return { deleted, failure: error as Error };
      if (rest.length > 0) queue.unshift(rest);
    }
  }
  return { deleted };
}
