/**
 * The `$.dns` every workflow's plan step hands its DNS states (docs/design.md "DNS per
 * environment"): present only when per-environment DNS is on (a hosted zone and more than one
 * shard); the Choice before each DNS state skips it otherwise. The alias target is the ALB of
 * the environment's shard (`$.shard`, set by the plan step; a record without one is on s1).
 */
import type { RuntimeConfig } from '#runtime/config.ts';
import { dnsChangeFor, dnsPlan, dnsRecordState, DnsNameInUse, type AliasShard, type DnsPlan } from '#domain/dns-records.ts';
import type { Findings } from '#domain/healing.ts';
import type { WorkflowState } from '#domain/workflow-state.ts';
import { findRecordsNamed } from '#adapters/dns-records.ts';

/** The shard in the state, when the plan step put one there. */
function shardOf(state: WorkflowState): AliasShard | undefined {
  const shard = state.shard as Partial<AliasShard> | undefined;
  return shard?.id && shard.dnsName && shard.canonicalHostedZoneId ? (shard as AliasShard) : undefined;
}

/** `{ dns }` for the state (spread it in), or `{}` when per-environment DNS is off. */
export function environmentDns(state: WorkflowState, config: RuntimeConfig): { dns?: DnsPlan } {
  const plan = dnsPlan(state.name, shardOf(state), config);
  return plan ? { dns: plan } : {};
}

/** The heal's look at the record: what Findings.dnsRecord says (nothing when DNS is off). */
export async function inspectDnsRecord(dns: DnsPlan | undefined, shards: readonly AliasShard[]): Promise<Pick<Findings, 'dnsRecord'>> {
  if (!dns) return {};
  return { dnsRecord: dnsRecordState(dns, await findRecordsNamed(dns.hostedZoneId, dns.recordName), shards) };
}

/**
 * The create's look at its name before anything is made (PlanResources): the Route 53 change
 * CreateDnsRecord makes (CREATE on a free name, UPSERT over a record of Fledge's own: a retried or
 * converging create, or an earlier environment of that name whose teardown was interrupted), or
 * DnsNameInUse when the zone holds a record Fledge does not manage there. Undefined when DNS is off.
 */
export async function claimDnsName(dns: DnsPlan | undefined, shards: readonly AliasShard[]): Promise<'CREATE' | 'UPSERT' | undefined> {
  if (!dns) return undefined;
  const change = dnsChangeFor(dnsRecordState(dns, await findRecordsNamed(dns.hostedZoneId, dns.recordName), shards));
  if (!change) throw new DnsNameInUse(dns.recordName);
  return change;
}
