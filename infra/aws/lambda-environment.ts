/**
 * Lambda's limit on a function's environment variables: 4 KB in all, names, values and their
 * encoding together ("Lambda quotas", Function configuration: "Function environment variables:
 * 4 KB, for all environment variables associated with the function, in aggregate"). A deploy
 * over it fails in CloudFormation, late and far from the cause; this check fails `cdk synth`
 * instead, naming the byte count and the biggest variables (the operator's lists: context
 * `operators`, `iamRepositories`, `secretRepositories`, `oidcRepositoryOwners`, `oidcRefusedEvents`).
 *
 * The size is measured as the variables' JSON object (`{"NAME":"value",...}`, UTF-8), the
 * shape Lambda reports when it refuses one. Values that are CloudFormation references are not
 * known at synth; each counts at an upper bound: EC2 ids (vpc-/subnet-/sg-, at most 24
 * characters) 32 bytes, the account id 12, the partition 10, the region 16, and any other
 * reference (an ARN, or a name CloudFormation generates) REFERENCE_BOUND = 200 bytes, but the
 * load balancers' ARNs, names and DNS names, which have documented maxima (ELB_BOUNDS).
 */
import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import { missingVariables, type LambdaKind } from '#runtime/config.ts';
import { ConfigError } from './config.ts';

export const LAMBDA_ENVIRONMENT_LIMIT = 4096;
/** What one reference to a stack resource (an ARN or a generated name) counts for. */
export const REFERENCE_BOUND = 200;
const EC2_ID_BOUND = 32;
const PSEUDO_BOUNDS: Record<string, number> = { 'AWS::AccountId': 12, 'AWS::Partition': 10, 'AWS::Region': 16, 'AWS::URLSuffix': 20 };
const EC2_ID_TYPES = new Set(['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::SecurityGroup']);

/**
 * Tighter bounds for the load balancers' values (FLEDGE_LISTENER_ARN, FLEDGE_SHARDS inline). A load
 * balancer's or target group's name has at most 32 characters and its id 16 hex digits
 * (Elastic Load Balancing API Reference, CreateLoadBalancer and CreateTargetGroup: "Name ...
 * maximum of 32 characters"; ARN formats: "Actions, resources, and condition keys for Elastic
 * Load Balancing V2"). `arn:<partition>:elasticloadbalancing:<region>:<account>:` takes at most
 * 4 + 10 + 1 + 19 + 1 + 16 + 1 + 12 + 1 = 65.
 */
const ELB_ARN_PREFIX = 65;
const ELB_NAME = 32;
const ELB_ID = 16;
const ELB_BOUNDS: Record<string, { ref?: number; attributes?: Record<string, number> }> = {
  // listener/app/<name>/<lb id>/<listener id>
  'AWS::ElasticLoadBalancingV2::Listener': { ref: ELB_ARN_PREFIX + 'listener/app/'.length + ELB_NAME + 1 + ELB_ID + 1 + ELB_ID },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    // loadbalancer/app/<name>/<id>
    ref: ELB_ARN_PREFIX + 'loadbalancer/app/'.length + ELB_NAME + 1 + ELB_ID,
    attributes: {
      LoadBalancerArn: ELB_ARN_PREFIX + 'loadbalancer/app/'.length + ELB_NAME + 1 + ELB_ID,
      // app/<name>/<id>
      LoadBalancerFullName: 'app/'.length + ELB_NAME + 1 + ELB_ID,
      // <name>-<number>.<region>.elb.amazonaws.com(.cn): 32 + 1 + 12 + 1 + 16 + 21
      DNSName: ELB_NAME + 1 + 12 + 1 + 16 + '.elb.amazonaws.com.cn'.length,
      // a Route 53 hosted zone id (at most 32 characters: Route 53 API Reference, HostedZone Id)
      CanonicalHostedZoneID: 32,
    },
  },
  // targetgroup/<name>/<id>
  'AWS::ElasticLoadBalancingV2::TargetGroup': { ref: ELB_ARN_PREFIX + 'targetgroup/'.length + ELB_NAME + 1 + ELB_ID },
};

/** Upper bound, in bytes, of a resolved CloudFormation value once deployed (without JSON quoting). */
function boundOf(value: unknown, types: Map<string, string>): number {
  if (typeof value === 'string') return Buffer.byteLength(JSON.stringify(value)) - 2;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string') {
      const type = types.get(node.Ref) ?? '';
      return PSEUDO_BOUNDS[node.Ref] ?? ELB_BOUNDS[type]?.ref ?? (EC2_ID_TYPES.has(type) ? EC2_ID_BOUND : REFERENCE_BOUND);
    }
    const getAtt = node['Fn::GetAtt'] as [string, string] | undefined;
    if (Array.isArray(getAtt)) {
      const type = types.get(getAtt[0]) ?? '';
      return ELB_BOUNDS[type]?.attributes?.[getAtt[1]] ?? (EC2_ID_TYPES.has(type) ? EC2_ID_BOUND : REFERENCE_BOUND);
    }
    const join = node['Fn::Join'] as [string, unknown[]] | undefined;
    if (Array.isArray(join)) {
      return join[1].reduce<number>((sum, part) => sum + boundOf(part, types), 0) + Buffer.byteLength(join[0]) * Math.max(0, join[1].length - 1);
    }
  }
  return REFERENCE_BOUND;
}

/** The variables' size in bytes (an upper bound while any value is a reference), and each variable's share. */
export function lambdaEnvironmentSize(stack: Stack, environment: Record<string, string>): { total: number; byName: Record<string, number> } {
  const types = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (CfnResource.isCfnResource(construct)) types.set(stack.getLogicalId(construct), construct.cfnResourceType);
  }
  const byName: Record<string, number> = {};
  for (const [name, value] of Object.entries(environment)) {
    const valueBytes = Token.isUnresolved(value) ? boundOf(stack.resolve(value), types) : Buffer.byteLength(JSON.stringify(value)) - 2;
    // "NAME":"value", with its comma
    byName[name] = Buffer.byteLength(JSON.stringify(name)) + 1 + 2 + valueBytes + 1;
  }
  // the braces; the last variable has no comma
  const total = 2 + Object.values(byName).reduce((sum, bytes) => sum + bytes, 0) - (Object.keys(byName).length ? 1 : 0);
  return { total, byName };
}

/** Throws a ConfigError when `environment` may exceed Lambda's 4 KB. */
export const OPERATOR_LISTS_HINT =
  'Shorten the context lists operators, iamRepositories, secretRepositories, oidcRepositoryOwners or oidcRefusedEvents (e.g. fewer, wider IAM ARN patterns).';

export function checkLambdaEnvironmentSize(stack: Stack, environment: Record<string, string>, what: string, hint = OPERATOR_LISTS_HINT): void {
  const { total, byName } = lambdaEnvironmentSize(stack, environment);
  if (total <= LAMBDA_ENVIRONMENT_LIMIT) return;
  const biggest = Object.entries(byName).sort(([, a], [, b]) => b - a).slice(0, 3).map(([name, bytes]) => `${name} (${bytes} bytes)`);
  throw new ConfigError(
    `the environment variables of ${what} may take ${total} bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT} bytes ` +
      `(each CloudFormation reference counted at its upper bound, ${REFERENCE_BOUND} bytes for an ARN). The biggest: ${biggest.join(', ')}. ${hint}`,
  );
}

/** Throws a ConfigError when `environment` lacks a variable the Lambdas of `kind` cannot run without (functions/runtime/config.ts). */
export function checkRequiredVariables(kind: LambdaKind, environment: Record<string, string>): void {
  const missing = missingVariables(kind, environment);
  if (missing.length) throw new ConfigError(`the ${kind} Lambdas' environment lacks ${missing.join(', ')}, which functions/runtime/config.ts requires`);
}
