/**
 * What the smoke does behind Fledge's back: delete an environment's ECS service out of band
 * (to watch the heal), and list what is left of an environment after its teardown. One small
 * interface, two implementations: the real account (ECS, Resource Groups Tagging API, Route 53)
 * and local mode (its `/_local/faults` and `/_local/resources` routes).
 *
 * Route 53 record sets cannot be tagged (ChangeTagsForResource takes only `healthcheck` and
 * `hostedzone` resources: Amazon Route 53 API Reference, ChangeTagsForResource), so the tagging
 * API never lists an environment's alias record (made per environment when the installation has
 * more than one load balancer: README "Capacity"). The leftovers look for it by name in the
 * installation's hosted zone instead.
 */
import { DeleteServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListResourceRecordSetsCommand, Route53Client, type ListResourceRecordSetsCommandOutput } from '@aws-sdk/client-route-53';
import { describeAnswer, type FledgeApi } from '../api-client.ts';

export const ENVIRONMENT_TAG = 'fledge:environment';

export interface OutOfBand {
  readonly kind: 'aws' | 'local';
  /** whether `leftovers` also looks for the environment's DNS record */
  readonly checksDnsRecords: boolean;
  /** one line: where the out-of-band operations go */
  describe(): string;
  /** removes the environment's ECS service without telling Fledge; returns what was done */
  deleteService(environment: string): Promise<string>;
  /** the ARNs of the resources tagged fledge:environment=<environment> (proves the tagging before the teardown) */
  tagged(environment: string): Promise<string[]>;
  /**
   * What still exists of the environment (one line per resource); empty when nothing is left.
   * `hostname`: the host of the environment's URL (`<name>.<baseDomain>`), the name of its DNS
   * record, when the smoke learnt it.
   */
  leftovers(environment: string, hostname?: string): Promise<string[]>;
}

/** `Pr-1.Example.com` -> `pr-1.example.com.`: Route 53 answers names lowercase (for our names) and fully qualified. */
const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;

/** the environment's record: `hostname` when known, else any name whose first label is the environment */
const isRecordOf = (environment: string, hostname: string | undefined) => (recordName: string) =>
  hostname ? fqdn(recordName) === fqdn(hostname) : fqdn(recordName).startsWith(`${environment}.`);

/**
 * The real account: ECS DeleteService with force, GetResources by tag, DescribeServices, and
 * (with `hostedZoneId`, the installation's zone) ListResourceRecordSets for the alias record.
 */
export class AwsOutOfBand implements OutOfBand {
  readonly kind = 'aws';
  private readonly ecs: ECSClient;
  private readonly tagging: ResourceGroupsTaggingAPIClient;
  private readonly route53: Route53Client;

  constructor(
    private readonly cluster: string,
    private readonly region: string,
    clients: { ecs?: ECSClient; tagging?: ResourceGroupsTaggingAPIClient; route53?: Route53Client } = {},
    private readonly hostedZoneId?: string,
  ) {
    this.ecs = clients.ecs ?? new ECSClient({ region });
    this.tagging = clients.tagging ?? new ResourceGroupsTaggingAPIClient({ region });
    // Route 53 is global: its API is in us-east-1 whatever the installation's region
    this.route53 = clients.route53 ?? new Route53Client({ region: 'us-east-1' });
  }

  get checksDnsRecords(): boolean {
    return Boolean(this.hostedZoneId);
  }

  describe(): string {
    const dns = this.hostedZoneId
      ? `Route 53 records in hosted zone ${this.hostedZoneId}`
      : 'no Route 53 check (pass --hosted-zone-id when the installation has more than one load balancer)';
    return `AWS (region ${this.region}, ECS cluster ${this.cluster}; ${dns}; out-of-band calls use the standard credential chain)`;
  }

  /**
   * The zone's record sets of the environment. With its hostname, one page from that name (the
   * zone lists names in order, so its records come first); without, every page of the zone.
   */
  private async records(environment: string, hostname: string | undefined): Promise<string[]> {
    if (!this.hostedZoneId) return [];
    const matches = isRecordOf(environment, hostname);
    const found: string[] = [];
    let start: { name?: string; type?: string; identifier?: string } = hostname ? { name: fqdn(hostname) } : {};
    for (;;) {
      const page: ListResourceRecordSetsCommandOutput = await this.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId,
          ...(start.name ? { StartRecordName: start.name } : {}),
          ...(start.type ? { StartRecordType: start.type as 'A' } : {}),
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      );
      for (const record of page.ResourceRecordSets ?? []) {
        if (record.Name && matches(record.Name)) found.push(`route53 record ${fqdn(record.Name)} ${record.Type ?? ''} in hosted zone ${this.hostedZoneId}`.trimEnd());
      }
      const last = page.ResourceRecordSets?.at(-1)?.Name;
      // from the hostname on, a page that ends past it holds everything of it
      if (!page.IsTruncated || (hostname && last && fqdn(last) !== fqdn(hostname))) return found;
      start = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
    }
  }

  async deleteService(environment: string): Promise<string> {
    // force: delete a service that still has a desired count above 0, as a careless operator would
    const answer = await this.ecs.send(new DeleteServiceCommand({ cluster: this.cluster, service: environment, force: true }));
    return `ECS DeleteService(force) ${answer.service?.serviceArn ?? environment}: ${answer.service?.status ?? 'done'}`;
  }

  async tagged(environment: string): Promise<string[]> {
    const tagged: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.tagging.send(
        new GetResourcesCommand({ TagFilters: [{ Key: ENVIRONMENT_TAG, Values: [environment] }], ResourcesPerPage: 100, ...(token ? { PaginationToken: token } : {}) }),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) if (mapping.ResourceARN) tagged.push(mapping.ResourceARN);
      token = page.PaginationToken || undefined;
    } while (token);
    return tagged;
  }

  async leftovers(environment: string, hostname?: string): Promise<string[]> {
    const tagged = await this.tagged(environment);

    // ECS keeps a deleted service as INACTIVE for a while, and the tagging API may still list
    // it; DescribeServices is the authority on whether it is gone.
    const described = await this.ecs.send(new DescribeServicesCommand({ cluster: this.cluster, services: [environment] }));
    const service = described.services?.[0];
    const left: string[] = [];
    const serviceGone = !service || service.status === 'INACTIVE';
    if (!serviceGone) left.push(`ecs-service ${service.serviceArn ?? environment} is ${service.status}`);
    for (const arn of tagged) {
      if (/^arn:aws[a-z-]*:ecs:[^:]+:\d+:service\//.test(arn) && (serviceGone || arn === service?.serviceArn)) continue;
      left.push(`tagged ${ENVIRONMENT_TAG}=${environment}: ${arn}`);
    }
    left.push(...(await this.records(environment, hostname)));
    return left;
  }
}

interface LocalResource {
  environment?: string;
  name?: string;
  arn?: string;
  resourceId?: string;
  status?: string;
}

/** Local mode: the simulator's fault injection and resource listing. */
export class LocalOutOfBand implements OutOfBand {
  readonly kind = 'local';
  readonly checksDnsRecords = true;

  constructor(private readonly api: FledgeApi) {}

  /** local mode answers `GET /_local/resources` with the simulated account; AWS does not */
  static async detect(api: FledgeApi): Promise<boolean> {
    try {
      const answer = await api.call('GET', '/_local/resources');
      return answer.status === 200 && Array.isArray(answer.body?.services);
    } catch {
      return false;
    }
  }

  describe(): string {
    return `local mode (${this.api.url('/_local/').href}: faults and simulated resources)`;
  }

  async deleteService(environment: string): Promise<string> {
    const answer = await this.api.call('POST', '/_local/faults', { environment, fault: 'delete-service' });
    if (answer.status !== 200) throw new Error(`POST /_local/faults delete-service: ${describeAnswer(answer)}`);
    return `POST /_local/faults {"fault":"delete-service"}: the simulated service ${environment} is gone`;
  }

  private async simulated(): Promise<Record<string, unknown>> {
    const answer = await this.api.call('GET', '/_local/resources');
    if (answer.status !== 200) throw new Error(`GET /_local/resources: ${describeAnswer(answer)}`);
    return answer.body as Record<string, unknown>;
  }

  /** the simulated resources of the environment (the simulator reads `environment` from the fledge:environment tag) */
  private resourcesOf(environment: string, simulated: Record<string, unknown>): { kind: string; id: string; status?: string }[] {
    const found: { kind: string; id: string; status?: string }[] = [];
    for (const [kind, value] of Object.entries(simulated)) {
      if (!Array.isArray(value)) continue;
      for (const resource of value as LocalResource[]) {
        if (resource?.environment !== environment) continue;
        found.push({ kind, id: resource.arn ?? resource.resourceId ?? resource.name ?? '?', ...(resource.status ? { status: resource.status } : {}) });
      }
    }
    return found;
  }

  async tagged(environment: string): Promise<string[]> {
    return this.resourcesOf(environment, await this.simulated()).map((r) => r.id);
  }

  async leftovers(environment: string, hostname?: string): Promise<string[]> {
    const simulated = await this.simulated();
    const left = this.resourcesOf(environment, simulated).map((r) => `${r.kind}: ${r.id}${r.status ? ` (${r.status})` : ''}`);
    // the simulated zone's alias records carry no environment (record sets have no tags on AWS either): by name
    const matches = isRecordOf(environment, hostname?.replace(/:\d+$/, ''));
    for (const record of (simulated.dnsRecords as { name: string; type: string }[] | undefined) ?? []) {
      if (matches(record.name)) left.push(`dnsRecords: ${fqdn(record.name)} ${record.type}`);
    }
    return left;
  }
}
