/**
 * Per-environment alias records in the operator's Route 53 hosted zone (docs/design.md "DNS
 * per environment"): the heal's look at one record, the orphan sweep's listing of the base
 * domain's records and its batched deletion. Route 53 meters every call of the account in one
 * bucket (5 requests a second: Route 53 Developer Guide, "Throttling for Amazon Route 53 API
 * requests"), so a read asks for exactly what it needs and deletions go many to a request.
 */
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type ListResourceRecordSetsCommandOutput } from '@aws-sdk/client-route-53';
import { batches, dnsDomain, type AliasRecord } from '#domain/dns-records.ts';
import { route53Client } from './clients/route53.ts';
import { CallCounter } from './tagged-resources.ts';

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** The A record named `recordName` (fully qualified), or undefined: one ListResourceRecordSets of one item. */
export async function findAliasRecord(hostedZoneId: string, recordName: string): Promise<AliasRecord | undefined> {
  const out = await route53Client().send(
    new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: recordName, StartRecordType: 'A', MaxItems: 1 }),
  );
  const record = (out.ResourceRecordSets as AliasRecord[] | undefined)?.[0];
  return record && fqdn(record.Name) === fqdn(recordName) && record.Type === 'A' ? record : undefined;
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

/**
 * Deletes `records` (exactly as listed: Route 53 deletes a record only when the values match),
 * up to 1,000 in one ChangeResourceRecordSets. A batch is atomic: when a record of it was
 * deleted meanwhile, Route 53 rejects the whole batch (InvalidChangeBatch, "not found"), and the
 * batch goes again once without those. Returns the names deleted.
 */
export async function deleteAliasRecords(hostedZoneId: string, records: readonly AliasRecord[], counter = new CallCounter()): Promise<string[]> {
  const deleted: string[] = [];
  for (const batch of batches(records)) {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        await counter.count(route53Client().send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: {
              Comment: 'Fledge cleanup: alias records of environments that are gone',
              Changes: pending.map((record) => ({ Action: 'DELETE' as const, ResourceRecordSet: record as never })),
            },
          }),
        ));
        deleted.push(...pending.map((r) => fqdn(r.Name)));
        break;
      } catch (error) {
        const gone = (error as Error).name === 'InvalidChangeBatch' ? notFound(error) : new Set<string>();
        if (attempt > 1 || gone.size === 0) throw error;
        pending = pending.filter((r) => !gone.has(fqdn(r.Name)));
      }
    }
  }
  return deleted;
}
