/**
 * What the smoke does behind Fledge's back: delete an environment's ECS service out of band
 * (to watch the heal), and list what is left of an environment after its teardown. One small
 * interface, two implementations: the real account (ECS + Resource Groups Tagging API) and
 * local mode (its `/_local/faults` and `/_local/resources` routes).
 */
import { DeleteServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { describeAnswer, type FledgeApi } from '../api-client.ts';

export const ENVIRONMENT_TAG = 'fledge:environment';

export interface OutOfBand {
  readonly kind: 'aws' | 'local';
  /** one line: where the out-of-band operations go */
  describe(): string;
  /** removes the environment's ECS service without telling Fledge; returns what was done */
  deleteService(environment: string): Promise<string>;
  /** the ARNs of the resources tagged fledge:environment=<environment> (proves the tagging before the teardown) */
  tagged(environment: string): Promise<string[]>;
  /** what still exists of the environment (one line per resource); empty when nothing is left */
  leftovers(environment: string): Promise<string[]>;
}

/** The real account: ECS DeleteService with force, GetResources by tag, DescribeServices. */
export class AwsOutOfBand implements OutOfBand {
  readonly kind = 'aws';
  private readonly ecs: ECSClient;
  private readonly tagging: ResourceGroupsTaggingAPIClient;

  constructor(
    private readonly cluster: string,
    private readonly region: string,
    clients: { ecs?: ECSClient; tagging?: ResourceGroupsTaggingAPIClient } = {},
  ) {
    this.ecs = clients.ecs ?? new ECSClient({ region });
    this.tagging = clients.tagging ?? new ResourceGroupsTaggingAPIClient({ region });
  }

  describe(): string {
    return `AWS (region ${this.region}, ECS cluster ${this.cluster}; out-of-band calls use the standard credential chain)`;
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

  async leftovers(environment: string): Promise<string[]> {
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

  /** the simulated resources of the environment (the simulator reads `environment` from the fledge:environment tag) */
  private async resourcesOf(environment: string): Promise<{ kind: string; id: string; status?: string }[]> {
    const answer = await this.api.call('GET', '/_local/resources');
    if (answer.status !== 200) throw new Error(`GET /_local/resources: ${describeAnswer(answer)}`);
    const found: { kind: string; id: string; status?: string }[] = [];
    for (const [kind, value] of Object.entries(answer.body as Record<string, unknown>)) {
      if (!Array.isArray(value)) continue;
      for (const resource of value as LocalResource[]) {
        if (resource?.environment !== environment) continue;
        found.push({ kind, id: resource.arn ?? resource.resourceId ?? resource.name ?? '?', ...(resource.status ? { status: resource.status } : {}) });
      }
    }
    return found;
  }

  async tagged(environment: string): Promise<string[]> {
    return (await this.resourcesOf(environment)).map((r) => r.id);
  }

  async leftovers(environment: string): Promise<string[]> {
    return (await this.resourcesOf(environment)).map((r) => `${r.kind}: ${r.id}${r.status ? ` (${r.status})` : ''}`);
  }
}
