/**
 * The `$.dns` every workflow's plan step hands its DNS states (docs/design.md "DNS per
 * environment"): present only when per-environment DNS is on (a hosted zone and more than one
 * shard); the Choice before each DNS state skips it otherwise. The alias target is the ALB of
 * the environment's shard (`$.shard`, set by the plan step; a record without one is on s1).
 */
import { runtimeConfig, type RuntimeConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { dnsChangeFor, dnsPlan, dnsRecordState, DnsNameInUse, refusedCreate, type AliasShard, type DnsPlan, type DnsRecordState } from '#domain/dns-records.ts';
import type { Findings } from '#domain/healing.ts';
import type { CaughtError, WorkflowKind, WorkflowState } from '#domain/workflow-state.ts';
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

/** What the zone holds at the plan's name now (one read of the name's records). */
async function readDnsRecordState(dns: DnsPlan, shards: readonly AliasShard[]): Promise<DnsRecordState> {
  return dnsRecordState(dns, await findRecordsNamed(dns.hostedZoneId, dns.recordName), shards);
}

/** The heal's look at the record: what Findings.dnsRecord says (nothing when DNS is off). */
export async function inspectDnsRecord(dns: DnsPlan | undefined, shards: readonly AliasShard[]): Promise<Pick<Findings, 'dnsRecord'>> {
  if (!dns) return {};
  return { dnsRecord: await readDnsRecordState(dns, shards) };
}

/**
 * The create's look at its name before anything is made (PlanResources): the Route 53 change
 * CreateDnsRecord makes (CREATE on a free name, UPSERT over a record of Fledge's own: a retried or
 * converging create, or an earlier environment of that name whose teardown was interrupted), or
 * DnsNameInUse when the zone holds a record Fledge does not manage there. Undefined when DNS is off.
 */
export async function claimDnsName(dns: DnsPlan | undefined, shards: readonly AliasShard[]): Promise<'CREATE' | 'UPSERT' | undefined> {
  if (!dns) return undefined;
  const change = dnsChangeFor(await readDnsRecordState(dns, shards));
  if (!change) throw new DnsNameInUse(dns.recordName);
  return change;
}

/**
 * RecheckDnsRecord (create; heal's RepairDnsRecord): Route 53 refused the CREATE of the alias
 * record (InvalidChangeBatch, caught at `$.dnsChangeError`), and the name is read again to tell why
 * (functions/domain/dns-records.ts `refusedCreate`):
 * - Fledge's alias naming the plan's ALB: an earlier try was applied and its answer lost, the
 *   state's Retry sent the CREATE again. The record is the workflow's: its result is set as the
 *   CREATE's would be (create `$.dnsRecord`, heal `$.done.dnsRecord`; the change id is in the lost
 *   answer: nothing reads it, the undo and the teardown go by presence) and the workflow goes on;
 * - a record Fledge does not manage: DnsNameInUse (DNS_NAME_IN_USE); a create's undo deletes
 *   nothing of the zone, a heal's next pass finds the name taken and says so;
 * - nothing, or Fledge's alias naming another ALB: refused for another reason (a wrong alias
 *   target, say). Route 53's error becomes the step's failure (create `$.error`: the undo runs and
 *   FailOperation logs it; heal `$.repairError`), and the caller sees a typed code in Fledge's
 *   words (functions/domain/task-failure.ts), never Route 53's text.
 */
export async function recheckDnsRecord(workflow: WorkflowKind, state: WorkflowState): Promise<WorkflowState> {
  const dns = state.dns as DnsPlan | undefined;
  if (!dns) throw new Error('RecheckDnsRecord runs only after a CREATE of the alias record, which needs $.dns');
  const { dnsChangeError, ...rest } = state;
  const found = await readDnsRecordState(dns, runtimeConfig().shards);
  switch (refusedCreate(found)) {
    case 'ours': {
      logger.info('Route 53 refused the CREATE of a record an earlier try had made (its answer was lost): the record is this workflow\'s', { dnsRecord: dns.recordName });
      const made = { changeId: null };
      return workflow === 'heal' ? { ...rest, done: { ...(rest.done as Record<string, unknown> | undefined), dnsRecord: made } } : { ...rest, dnsRecord: made };
    }
    case 'in-use':
      throw new DnsNameInUse(dns.recordName);
    case 'refused': {
      logger.warn('Route 53 refused the CREATE of the alias record', { dnsRecord: dns.recordName, found, error: dnsChangeError });
      const error = (dnsChangeError as CaughtError | undefined) ?? { Error: 'Route53.InvalidChangeBatchException' };
      return workflow === 'heal' ? { ...rest, repairError: error } : { ...rest, error };
    }
  }
}
