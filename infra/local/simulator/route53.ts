/**
 * Simulated Route 53: one public hosted zone (the installation's base domain) holding alias A
 * records, as Fledge makes them per environment when it runs more than one ALB (shard).
 * What AWS does and this models (Amazon Route 53 API Reference, ChangeResourceRecordSets,
 * ListResourceRecordSets, GetChange, and their "Errors" sections):
 *  - a change batch is atomic: every change is checked against the zone as the batch leaves
 *    it, and one bad change rejects the whole batch (InvalidChangeBatch), nothing applied;
 *  - CREATE of a record that exists, DELETE of one that does not (or whose values differ),
 *    two changes of one record in a batch, a name outside the zone: InvalidChangeBatch;
 *  - an alias together with TTL/ResourceRecords, an unknown action, an empty batch: InvalidInput;
 *  - at most 1,000 records in one request (Route 53 Developer Guide, "Quotas", "Quotas on API requests");
 *  - an unknown zone: NoSuchHostedZone (HTTP 404);
 *  - ListResourceRecordSets in Route 53's order (names compared label by label from the right,
 *    then type), from StartRecordName/StartRecordType, MaxItems at most 300 a page;
 *  - a change is PENDING, then INSYNC once "propagated" (GetChange).
 * The request rate (the account's bucket and each action's, `Throttling`) is metered by the
 * simulator's dispatch with the other services (rate-limits.ts).
 */
import { awsError } from './errors.ts';
import { hex, type SimContext } from './context.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface AliasTarget {
  HostedZoneId: string;
  DNSName: string;
  EvaluateTargetHealth: boolean;
}

export interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  TTL?: number;
  ResourceRecords?: { Value: string }[];
  AliasTarget?: AliasTarget;
}

interface ChangeRecord {
  Id: string;
  Status: 'PENDING' | 'INSYNC';
  SubmittedAt: Date;
  Comment?: string;
  insyncAt: number;
}

/** Records in one request (Route 53 Developer Guide, "Quotas on API requests"). */
export const MAX_RECORDS_PER_CHANGE_BATCH = 1000;
/** A page of ListResourceRecordSets holds at most this many records (API Reference, ListResourceRecordSets). */
const MAX_ITEMS_PER_PAGE = 300;
/** How long a change stays PENDING before GetChange reports INSYNC (AWS: usually within 60 s). */
const PROPAGATION_MS = 1000;
const RECORD_TYPES = new Set(['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'HTTPS', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SPF', 'SRV', 'SSHFP', 'SVCB', 'TLSA', 'TXT']);

/** A DNS name as Route 53 stores it: lower case, fully qualified (trailing dot). */
export function normalizeDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * Route 53's listing order: the name with its labels reversed and a trailing dot
 * (`www.example.com.` sorts as `com.example.www.`), compared by ASCII value, so the names under a
 * domain are one run and `-` sorts before `.` (API Reference, ListResourceRecordSets).
 */
function sortKey(name: string): string {
  return `${name.replace(/\.$/, '').split('.').reverse().join('.')}.`;
}

const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const recordKey = (r: Pick<RecordSet, 'Name' | 'Type' | 'SetIdentifier'>) => `${r.Name}|${r.Type}|${r.SetIdentifier ?? ''}`;
const describe = (r: Pick<RecordSet, 'Name' | 'Type'>) => `[name='${r.Name}', type='${r.Type}']`;

function sameValues(a: RecordSet, b: RecordSet): boolean {
  const alias = (r: RecordSet) =>
    r.AliasTarget ? `${r.AliasTarget.HostedZoneId}|${normalizeDnsName(r.AliasTarget.DNSName)}|${r.AliasTarget.EvaluateTargetHealth}` : '';
  const values = (r: RecordSet) => (r.ResourceRecords ?? []).map((v) => v.Value).sort().join('\n');
  return alias(a) === alias(b) && values(a) === values(b) && (a.TTL ?? null) === (b.TTL ?? null);
}

export class Route53Simulator {
  /** the one hosted zone, id without the `/hostedzone/` prefix */
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly records = new Map<string, RecordSet>();
  private readonly changes = new Map<string, ChangeRecord>();

  constructor(
    private readonly ctx: SimContext,
    zoneName: string,
  ) {
    this.zoneName = normalizeDnsName(zoneName);
    this.hostedZoneId = `Z0LOCAL${hex(6).toUpperCase()}`;
    // every public zone starts with its NS and SOA records (Route 53 Developer Guide, "NS and SOA records that Route 53 creates for a public hosted zone")
    const ns = ['ns-1.awsdns-00.com.', 'ns-2.awsdns-00.net.', 'ns-3.awsdns-00.org.', 'ns-4.awsdns-00.co.uk.'];
    this.put({ Name: this.zoneName, Type: 'NS', TTL: 172800, ResourceRecords: ns.map((Value) => ({ Value })) });
    this.put({ Name: this.zoneName, Type: 'SOA', TTL: 900, ResourceRecords: [{ Value: `${ns[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400` }] });
  }

  private put(record: RecordSet): void {
    this.records.set(recordKey(record), record);
  }

  /** The zone's alias A records (what `GET /_local/resources` lists as dnsRecords). */
  aliasRecords(): { name: string; type: string; target: string; targetHostedZoneId: string }[] {
    return [...this.records.values()]
      .filter((r) => r.AliasTarget)
      .sort((a, b) => ascii(sortKey(a.Name), sortKey(b.Name)))
      .map((r) => ({ name: r.Name, type: r.Type, target: r.AliasTarget!.DNSName, targetHostedZoneId: r.AliasTarget!.HostedZoneId }));
  }

  /** The alias target DNS name of `hostname` (an A record of the zone), or undefined: host routing asks the zone first. */
  resolveHost(hostname: string): string | undefined {
    const name = normalizeDnsName(hostname.replace(/:\d+$/, ''));
    return this.records.get(recordKey({ Name: name, Type: 'A' }))?.AliasTarget?.DNSName;
  }

  private zoneOf(input: Input): void {
    const id = String(input.HostedZoneId ?? input.Id ?? '').replace(/^\/?hostedzone\//, '');
    if (id !== this.hostedZoneId) throw awsError('route53', 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
  }

  /** The record of a change, as Route 53 reads it; a change it cannot read at all is InvalidInput. */
  private recordOf(change: Input): RecordSet {
    const set = (change.ResourceRecordSet ?? {}) as Input;
    const record: RecordSet = { Name: normalizeDnsName(String(set.Name)), Type: String(set.Type) };
    if (set.SetIdentifier !== undefined) record.SetIdentifier = String(set.SetIdentifier);
    if (set.TTL !== undefined) record.TTL = Number(set.TTL);
    if (set.ResourceRecords !== undefined) record.ResourceRecords = (set.ResourceRecords as Input[]).map((r) => ({ Value: String(r.Value) }));
    if (set.AliasTarget !== undefined) {
      const alias = set.AliasTarget as Input;
      record.AliasTarget = { HostedZoneId: String(alias.HostedZoneId), DNSName: normalizeDnsName(String(alias.DNSName)), EvaluateTargetHealth: Boolean(alias.EvaluateTargetHealth) };
    }
    const where = `Change with [Action=${String(change.Action)}, Name=${record.Name}, Type=${record.Type}, SetIdentifier=${record.SetIdentifier ?? 'null'}]`;
    if (!['CREATE', 'DELETE', 'UPSERT'].includes(String(change.Action))) {
      throw awsError('route53', 'InvalidInput', `Invalid request: Invalid XML ; Value '${String(change.Action)}' at 'changeBatch.changes.member.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]`);
    }
    if (!RECORD_TYPES.has(record.Type)) {
      throw awsError('route53', 'InvalidInput', `Invalid request: Value '${record.Type}' at 'changeBatch.changes.member.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set`);
    }
    const hasValues = record.TTL !== undefined || record.ResourceRecords !== undefined;
    if (record.AliasTarget ? hasValues : !(record.TTL !== undefined && record.ResourceRecords?.length)) {
      throw awsError('route53', 'InvalidInput', `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found ${record.AliasTarget ? 'more than one' : 'none'} in ${where}`);
    }
    return record;
  }

  /**
   * Route 53's answer when `record` may not stand beside the records of its name in `zone`
   * (a CNAME is alone at its name), else undefined. The messages are the ones Route 53 returns
   * (InvalidChangeBatch, as reported in hashicorp/terraform#9732 and ansible-collections/amazon.aws#2694).
   */
  private cnameConflict(zone: Map<string, RecordSet>, record: RecordSet): string | undefined {
    const others = [...zone.values()].filter((r) => r.Name === record.Name && r.Type !== record.Type);
    if (record.Type === 'CNAME' && others.length > 0) {
      return `RRSet of type CNAME with DNS name ${record.Name} is not permitted as it conflicts with other records with the same DNS name in zone ${this.zoneName}`;
    }
    if (others.some((r) => r.Type === 'CNAME')) {
      return `RRSet of type ${record.Type} with DNS name ${record.Name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${this.zoneName}`;
    }
    return undefined;
  }

  readonly actions: Record<string, (input: Input) => Input> = {
    ChangeResourceRecordSets: (input) => {
      this.zoneOf(input);
      const changes = ((input.ChangeBatch as Input | undefined)?.Changes ?? []) as Input[];
      if (changes.length === 0) {
        throw awsError('route53', 'InvalidInput', "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1");
      }
      const records = changes.map((change) => ({ action: String(change.Action), record: this.recordOf(change) }));
      if (records.length > MAX_RECORDS_PER_CHANGE_BATCH) {
        throw awsError('route53', 'InvalidChangeBatch', `Number of records limit of ${MAX_RECORDS_PER_CHANGE_BATCH} exceeded.`);
      }
      // atomic: every change is judged against the zone as the earlier changes of the batch leave it; nothing is applied unless all pass
      const next = new Map(this.records);
      const problems: string[] = [];
      const seen = new Set<string>();
      for (const { action, record } of records) {
        const key = recordKey(record);
        if (seen.has(key)) {
          problems.push(`The request contains an invalid set of changes for a resource record set '${record.Type} ${record.Name}'`);
          continue;
        }
        seen.add(key);
        if (record.Name !== this.zoneName && !record.Name.endsWith(`.${this.zoneName}`)) {
          problems.push(`RRSet with DNS name ${record.Name} is not permitted in zone ${this.zoneName}`);
          continue;
        }
        const existing = next.get(key);
        if (action === 'CREATE' && existing) problems.push(`Tried to create resource record set ${describe(record)} but it already exists`);
        else if (action === 'DELETE' && !existing) problems.push(`Tried to delete resource record set ${describe(record)} but it was not found`);
        else if (action === 'DELETE' && existing && !sameValues(existing, record)) {
          problems.push(`Tried to delete resource record set ${describe(record)} but the values provided do not match the current values`);
        } else if (action === 'DELETE') next.delete(key);
        else {
          const conflict = this.cnameConflict(next, record);
          if (conflict) problems.push(conflict);
          else next.set(key, record);
        }
      }
      if (problems.length > 0) {
        const error = awsError('route53', 'InvalidChangeBatch', `[${problems.join(', ')}]`);
        throw Object.assign(error, { messages: problems });
      }
      this.records.clear();
      for (const [key, record] of next) this.records.set(key, record);
      const now = this.ctx.clock.now();
      const change: ChangeRecord = { Id: `/change/C${hex(10).toUpperCase()}`, Status: 'PENDING', SubmittedAt: new Date(now), insyncAt: now + PROPAGATION_MS };
      const comment = (input.ChangeBatch as Input).Comment;
      if (comment !== undefined) change.Comment = String(comment);
      this.changes.set(change.Id, change);
      this.ctx.log.info('simulator: route 53 change', { changes: records.map((r) => `${r.action} ${r.record.Type} ${r.record.Name}`) });
      return { ChangeInfo: this.changeInfo(change) };
    },

    ListResourceRecordSets: (input) => {
      this.zoneOf(input);
      if (input.StartRecordType !== undefined && input.StartRecordName === undefined) {
        throw awsError('route53', 'InvalidInput', 'The input is not valid: StartRecordType requires StartRecordName');
      }
      const requested = input.MaxItems === undefined ? MAX_ITEMS_PER_PAGE : Number(input.MaxItems);
      if (!Number.isInteger(requested) || requested < 1) throw awsError('route53', 'InvalidInput', `Invalid value for MaxItems: ${String(input.MaxItems)}`);
      const maxItems = Math.min(requested, MAX_ITEMS_PER_PAGE);
      const sorted = [...this.records.values()].sort((a, b) => ascii(sortKey(a.Name), sortKey(b.Name)) || ascii(a.Type, b.Type));
      let from = 0;
      if (input.StartRecordName !== undefined) {
        const startKey = sortKey(normalizeDnsName(String(input.StartRecordName)));
        const startType = input.StartRecordType === undefined ? '' : String(input.StartRecordType);
        from = sorted.findIndex((r) => {
          const byName = ascii(sortKey(r.Name), startKey);
          return byName > 0 || (byName === 0 && ascii(r.Type, startType) >= 0);
        });
        if (from < 0) from = sorted.length;
      }
      const page = sorted.slice(from, from + maxItems);
      const rest = sorted[from + maxItems];
      return {
        ResourceRecordSets: page.map((r) => structuredClone(r)),
        IsTruncated: rest !== undefined,
        ...(rest ? { NextRecordName: rest.Name, NextRecordType: rest.Type } : {}),
        MaxItems: maxItems,
      };
    },

    GetChange: (input) => {
      const id = String(input.Id ?? '');
      const change = this.changes.get(id.startsWith('/change/') ? id : `/change/${id}`);
      if (!change) throw awsError('route53', 'NoSuchChange', `A change with the specified change ID does not exist: ${id}`, 404);
      return { ChangeInfo: this.changeInfo(change) };
    },
  };

  private changeInfo(change: ChangeRecord): Input {
    if (change.Status === 'PENDING' && this.ctx.clock.now() >= change.insyncAt) change.Status = 'INSYNC';
    return { Id: change.Id, Status: change.Status, SubmittedAt: change.SubmittedAt, ...(change.Comment !== undefined ? { Comment: change.Comment } : {}) };
  }

  /** MaxItems is a string in Route 53's wire model (aws-sdk v2) and a number in SDK v3: accept both, as Route 53 reads the query string. */
  static prepareInput(action: string, input: unknown): unknown {
    if (action !== 'ListResourceRecordSets' || typeof input !== 'object' || input === null) return input;
    const raw = input as Input;
    return typeof raw.MaxItems === 'number' ? { ...raw, MaxItems: String(raw.MaxItems) } : input;
  }
}
