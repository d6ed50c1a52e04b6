/**
 * cdk-nag (AwsSolutions) acknowledgments for IAM wildcards, derived from the policies as built.
 *
 * cdk-nag 3 acknowledges findings one by one (`AwsSolutions-IAM5[Resource::<flattened ARN>]`,
 * through CDK's `Validations.of(construct).acknowledge`). Rather than copy those strings, each
 * role lists the wildcard resource shapes it accepts, with the reason; every wildcard
 * resource actually present in its policies is matched against that list and acknowledged
 * with the reason plus the exact actions the statements grant on it. A wildcard that matches
 * no entry, or a `Resource: "*"` that grants an action outside UNSCOPABLE_ACTIONS, is left
 * unacknowledged, so cdk-nag (and test/infra) reports it.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

export interface WildcardReason {
  /** matches the resource as cdk-nag flattens it (e.g. `arn:<AWS::Partition>:ecs:...:service/<Cluster>/*`) */
  match: RegExp;
  why: string;
}

/** Wildcard actions CDK grants put in policies, and why they are acceptable. */
const ACTION_WILDCARDS: Record<string, string> = {
  'kms:ReEncrypt*':
    'CDK grant for the customer managed key of the Fledge table (context tableKmsKeyArn): ReEncryptFrom/ReEncryptTo on that key only, which DynamoDB needs for the encrypted table.',
  'kms:GenerateDataKey*':
    'CDK grant for the customer managed key of the Fledge table (context tableKmsKeyArn): GenerateDataKey/GenerateDataKeyWithoutPlaintext on that key only.',
};

/** How cdk-nag renders a resolved CloudFormation value in a finding id. */
export function flattenForNag(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flattenForNag).join(delimiter);
    }
    if (o['Fn::Sub']) return flattenForNag(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenForNag(resource)}.${flattenForNag(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flattenForNag(o['Fn::ImportValue']);
    if (o.Ref) return `<${flattenForNag(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

interface ResolvedStatement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The policies attached to a role that live in the construct tree (its default policy and `iam.Policy`s). */
function policiesOf(role: iam.Role): iam.Policy[] {
  const policies: iam.Policy[] = [];
  const stack = Stack.of(role);
  for (const construct of stack.node.findAll()) {
    if (construct instanceof iam.Policy) {
      const roles = (construct as unknown as { roles: iam.IRole[] }).roles ?? [];
      if (construct.node.scope === role || roles.includes(role)) policies.push(construct);
    }
  }
  return [...new Set(policies)];
}

/**
 * Acknowledges the IAM5 wildcard findings of `role` that `reasons` explain. `unscopable` lists
 * the actions a `Resource: "*"` may grant.
 */
export function acknowledgeWildcards(role: iam.Role, reasons: WildcardReason[], unscopable: readonly string[]): void {
  const stack = Stack.of(role);
  const actionsByResource = new Map<string, Set<string>>();
  const wildcardActions = new Set<string>();
  for (const policy of policiesOf(role)) {
    const document = stack.resolve(policy.document) as { Statement?: ResolvedStatement[] };
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      asArray(statement.Action)
        .filter((a) => a.includes('*'))
        .forEach((a) => wildcardActions.add(a));
      for (const resource of asArray(statement.Resource).map(flattenForNag)) {
        if (!resource.includes('*')) continue;
        const actions = actionsByResource.get(resource) ?? new Set<string>();
        asArray(statement.Action).forEach((a) => actions.add(a));
        actionsByResource.set(resource, actions);
      }
    }
  }
  for (const action of wildcardActions) {
    const reason = ACTION_WILDCARDS[action];
    if (reason) acknowledge(role, `AwsSolutions-IAM5[Action::${action}]`, reason);
  }
  for (const [resource, actionSet] of actionsByResource) {
    const actions = [...actionSet].sort();
    if (resource === '*' && actions.some((a) => !unscopable.includes(a))) continue; // leave it to cdk-nag
    const reason = reasons.find((r) => r.match.test(resource));
    if (!reason) continue;
    acknowledge(role, `AwsSolutions-IAM5[Resource::${resource}]`, `${reason.why} Actions: ${actions.join(', ')}.`);
  }
}

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
