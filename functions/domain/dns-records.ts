/**
 * Per-environment DNS (docs/design.md "DNS per environment"): with more than one load balancer
 * (shard) the wildcard record `*.<baseDomain>` can name only one of them, so each environment
 * gets its own alias A record `<name>.<baseDomain>` in the operator's Route 53 hosted zone,
 * naming its shard's ALB. With one shard (or no hosted zone) the wildcard is enough and no
 * record is made. Pure: the workflows' `$.dns`, the record names, which records are orphans.
 */

/**
 * What an alias record needs of a shard (functions/domain/shards.ts `Shard` has these fields;
 * declared here so DNS does not depend on placement).
 */
export interface AliasShard {
  id: string;
  /** the ALB's DNS name */
  dnsName: string;
  /** the ALB's canonical hosted zone id (Route 53 alias records name it) */
  canonicalHostedZoneId: string;
}

/** The settings per-environment DNS depends on (runtimeConfig()). */
export interface DnsSettings {
  baseDomain: string;
  hostedZoneId?: string;
  perEnvironmentDns: boolean;
  shards: readonly AliasShard[];
}

/** Records without a shard were placed before there was a pool: they are on the first ALB. */
export const DEFAULT_SHARD_ID = 's1';

/**
 * `$.dns` of a workflow: the zone, the record's fully qualified name, and the alias target
 * (its shard's ALB) in Route 53's member names, so the ASL passes it as it is.
 */
export interface DnsPlan {
  hostedZoneId: string;
  recordName: string;
  aliasTarget: { HostedZoneId: string; DNSName: string; EvaluateTargetHealth: false };
}

/** The DNS name of the base domain: no port (local mode's base domain is `localhost:<port>`), lower case. */
export function dnsDomain(baseDomain: string): string {
  return baseDomain.replace(/:\d+$/, '').replace(/\.+$/, '').toLowerCase();
}

/** `<name>.<baseDomain>.`, fully qualified as Route 53 lists it. */
export function dnsRecordName(name: string, baseDomain: string): string {
  return `${name}.${dnsDomain(baseDomain)}.`;
}

/** The shard `shardId` names; an unknown id is a configuration error the operator must see. */
export function aliasShard(shards: readonly AliasShard[], shardId: string | undefined): AliasShard {
  const id = shardId ?? DEFAULT_SHARD_ID;
  const shard = shards.find((s) => s.id === id);
  if (!shard) throw new Error(`shard "${id}" is not among the configured shards (${shards.map((s) => s.id).join(', ') || 'none'})`);
  return shard;
}

/** The environment's `$.dns`, or undefined when per-environment DNS is off (one shard, or no hosted zone). */
export function dnsPlan(name: string, shard: AliasShard | undefined, settings: DnsSettings): DnsPlan | undefined {
  if (!settings.perEnvironmentDns || !settings.hostedZoneId) return undefined;
  const target = shard ?? aliasShard(settings.shards, undefined);
  return {
    hostedZoneId: settings.hostedZoneId,
    recordName: dnsRecordName(name, settings.baseDomain),
    // EvaluateTargetHealth false: the ALB answers (a sleeping environment's waker included) whatever its targets' health
    aliasTarget: { HostedZoneId: target.canonicalHostedZoneId, DNSName: target.dnsName, EvaluateTargetHealth: false },
  };
}

/** An alias A record as Route 53 lists it (ListResourceRecordSets). */
export interface AliasRecord {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  AliasTarget?: { HostedZoneId: string; DNSName: string; EvaluateTargetHealth: boolean };
}

/** A DNS name as Route 53 writes it: fully qualified (trailing dot), in lower case. */
export const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** Whether `record` is an alias A record (no routing policy) naming one of this installation's ALBs: a record Fledge made. */
export function isOwnAliasRecord(record: AliasRecord, shards: readonly AliasShard[]): boolean {
  if (record.Type !== 'A' || !record.AliasTarget || record.SetIdentifier !== undefined) return false;
  const target = fqdn(record.AliasTarget.DNSName);
  return shards.some((shard) => fqdn(shard.dnsName) === target);
}

/**
 * What the zone holds at the plan's name, from every record of that name (`records`: any type):
 * - `missing`: nothing, the name is free (create and heal CREATE the record);
 * - `ok`: Fledge's alias record, naming the plan's ALB;
 * - `drifted`: Fledge's alias record naming another of this installation's ALBs (a record of an
 *   earlier environment of that name whose teardown was interrupted, or a shard changed): Fledge's
 *   to take over or re-point (UPSERT);
 * - `taken`: a record Fledge does not manage (an A record of addresses, an alias to anything else,
 *   a CNAME, or any other type at the name without Fledge's alias beside it): the operator's, never
 *   written nor deleted (docs/security.md "Names in a shared hosted zone").
 */
export type DnsRecordState = 'ok' | 'missing' | 'drifted' | 'taken';

export function dnsRecordState(plan: DnsPlan, records: readonly AliasRecord[], shards: readonly AliasShard[]): DnsRecordState {
  const named = records.filter((r) => fqdn(r.Name) === fqdn(plan.recordName));
  if (named.length === 0) return 'missing';
  const own = named.find((r) => isOwnAliasRecord(r, shards));
  if (!own) return 'taken';
  const target = own.AliasTarget!;
  return fqdn(target.DNSName) === fqdn(plan.aliasTarget.DNSName) && target.HostedZoneId === plan.aliasTarget.HostedZoneId ? 'ok' : 'drifted';
}

/**
 * The Route 53 change that makes the environment's record (create): CREATE where the name is free
 * (Route 53 refuses it, InvalidChangeBatch, should a record appear meanwhile), UPSERT only over
 * Fledge's own record; a name `taken` by another record is DnsNameInUse.
 */
export function dnsChangeFor(state: DnsRecordState): 'CREATE' | 'UPSERT' | undefined {
  return state === 'taken' ? undefined : state === 'missing' ? 'CREATE' : 'UPSERT';
}

/**
 * Why Route 53 refused CreateDnsRecord's CREATE (InvalidChangeBatch), from what the zone holds at
 * the name when read again. InvalidChangeBatch says "Tried to create resource record set ... but
 * it already exists" for a record of the name and type (Route 53 API Reference, ChangeResourceRecordSets,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html: "Route
 * 53 validates the changes ... and then either makes all or none"), and also covers other refusals
 * (a wrong alias target, a CNAME):
 * - `ours`: Fledge's alias naming the plan's ALB is there: an earlier try of this CREATE was
 *   applied and its answer lost (a 5xx, a dropped connection; the state's Retry sent it again), so
 *   the record is the create's own;
 * - `in-use`: a record Fledge does not manage is there (one appeared since the plan looked): DNS_NAME_IN_USE;
 * - `refused`: no record, or Fledge's alias naming another ALB: refused for another reason, a plain failure.
 */
export type RefusedCreate = 'ours' | 'in-use' | 'refused';

export function refusedCreate(state: DnsRecordState): RefusedCreate {
  return state === 'ok' ? 'ours' : state === 'taken' ? 'in-use' : 'refused';
}

/** The error a create fails with when its name is used in the zone by a record Fledge does not manage (code DNS_NAME_IN_USE). */
export const DNS_NAME_IN_USE_ERROR = 'DnsNameInUse';

/** Plain words for DNS_NAME_IN_USE (no zone id, no record values). */
export function dnsNameInUseMessage(recordName?: string): string {
  return `the DNS name ${recordName ? `${recordName.replace(/\.$/, '')} ` : ''}is already used in the hosted zone by a record Fledge does not manage; Fledge leaves it alone: choose another environment name, or ask the operator to free the name`;
}

export class DnsNameInUse extends Error {
  override readonly name = DNS_NAME_IN_USE_ERROR;
  constructor(recordName: string) {
    super(dnsNameInUseMessage(recordName));
  }
}

/**
 * The environment a record of the zone is for: an alias A record named `<name>.<baseDomain>.`
 * with one label before the base domain, naming one of this installation's ALBs. Anything else
 * (the apex, the wildcard, deeper names, other types, aliases to other targets) is the
 * operator's: undefined.
 */
export function environmentOfRecord(record: AliasRecord, baseDomain: string, shards: readonly AliasShard[]): string | undefined {
  if (!isOwnAliasRecord(record, shards)) return undefined;
  const suffix = `.${dnsDomain(baseDomain)}.`;
  const name = fqdn(record.Name);
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label) ? label : undefined;
}

/** Route 53 takes at most 1,000 records in one ChangeResourceRecordSets (Developer Guide, "Quotas on API requests"). */
export const MAX_CHANGES_PER_BATCH = 1000;

/**
 * The orphan sweep's deletions per ChangeResourceRecordSets: far under the 1,000 Route 53 takes,
 * because each record change also takes a token from Route 53's change-throughput bucket (Route 53
 * Developer Guide, "Throttling for Amazon Route 53 API requests"), whose size the guide's page did
 * not yield here: a batch larger than that bucket would never pass. 100 is the Change elements a
 * request held under Route 53's earlier quota; a batch still throttled is split in halves
 * (functions/adapters/dns-records.ts).
 */
export const SWEEP_DELETES_PER_REQUEST = 100;

/** `items` in batches of at most `size`. */
export function batches<T>(items: readonly T[], size = MAX_CHANGES_PER_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
