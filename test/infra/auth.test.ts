/**
 * Callers on AWS (docs/security.md "Callers and tenancy"): with OIDC audiences configured a
 * second HTTP API serves the same routes and Lambdas behind a JWT authorizer for GitHub
 * Actions tokens; every route of every API is authenticated; the API Lambdas get the access
 * policy.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, GITHUB_ACTIONS_ISSUER, MAX_JWT_AUDIENCES, readConfig } from '../../infra/aws/config.ts';
import { routes } from '../../functions/contract/routes.ts';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

type Resource = { Type: string; Properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONTEXT = {
  oidcAudiences: ['fledge', 'https://github.com/acme'],
  oidcRepositoryOwners: ['1234567', 'acme-labs'],
  operators: ['arn:aws:iam::123456789012:role/FledgeAdmin', 'repo:acme/platform:ref:refs/heads/main'],
  iamRepositories: { 'arn:aws:iam::123456789012:role/ci-web': 'acme/web', 'arn:aws:iam::123456789012:role/ci-*': ['acme/shared'] },
};

let synthesized: Synthesized;
let resources: Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refOf = (value: unknown): string | undefined => {
  const o = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return o?.Ref ?? o?.['Fn::GetAtt']?.[0];
};

beforeAll(() => {
  synthesized = synthFledge(CONTEXT);
  resources = synthesized.template.toJSON().Resources as Record<string, Resource>;
});
afterAll(() => synthesized?.dispose());

describe('the CI API (GitHub Actions OIDC)', () => {
  it('has a JWT authorizer with the issuer and the audiences, reading the Authorization header', () => {
    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]![1].Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: GITHUB_ACTIONS_ISSUER, Audience: CONTEXT.oidcAudiences },
    });
  });

  it('serves every route on both APIs: IAM on one, the JWT authorizer on the other, never NONE, the same Lambda behind both', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api').map(([id]) => id);
    expect(apis).toHaveLength(2);
    const [authorizerId, authorizer] = ofType('AWS::ApiGatewayV2::Authorizer')[0]!;
    const ciApiId = refOf(authorizer.Properties.ApiId)!;
    const iamApiId = apis.find((id) => id !== ciApiId)!;
    const integrations = Object.fromEntries(ofType('AWS::ApiGatewayV2::Integration'));
    const routeResources = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routeResources).toHaveLength(2 * routes.length);
    for (const route of routeResources) expect(route.AuthorizationType, route.RouteKey).not.toBe('NONE');

    const functionBehind = (route: Record<string, any>) => refOf(integrations[refOf(route.Target['Fn::Join'][1][1])!]!.Properties.IntegrationUri); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const iam = routeResources.find((r) => r.RouteKey === key && refOf(r.ApiId) === iamApiId)!;
      const jwt = routeResources.find((r) => r.RouteKey === key && refOf(r.ApiId) === ciApiId)!;
      expect(iam, key).toMatchObject({ AuthorizationType: 'AWS_IAM' });
      expect(iam.AuthorizerId).toBeUndefined();
      expect(jwt, key).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
      expect(functionBehind(jwt), key).toBe(functionBehind(iam));
    }
  });

  it('throttles and logs the CI stage like the IAM stage, and outputs both URLs', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties);
    expect(stages).toHaveLength(2);
    for (const stage of stages) {
      expect(stage).toMatchObject({ StageName: '$default', DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
      expect(stage.AccessLogSettings.DestinationArn).toBeDefined();
    }
    expect(stages.some((s) => String(s.AccessLogSettings.Format).includes('$context.authorizer.claims.sub'))).toBe(true);
    expect(new Set(stages.map((s) => refOf(s.AccessLogSettings.DestinationArn))).size).toBe(2);
    const outputs = synthesized.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'CiApiUrl']));
  });

  it('alarms on the CI API\'s 5xx as on the API\'s', () => {
    // the alarm is on the 5xx rate: API Gateway's 5xx over its Count, a metric math query
    const apiIds = ofType('AWS::CloudWatch::Alarm')
      .flatMap(([, r]) => ((r.Properties.Metrics ?? []) as { MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] } } }[]))
      .map((q) => q.MetricStat?.Metric)
      .filter((m) => m?.MetricName === '5xx' && m.Namespace === 'AWS/ApiGateway')
      .map((m) => refOf(m!.Dimensions.find((d) => d.Name === 'ApiId')!.Value));
    expect(new Set(apiIds).size).toBe(2);
  });

  it('gives every API Lambda the access policy (operators, IAM map, OIDC owners), and only the API Lambdas', () => {
    const functions = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties);
    const api = functions.filter((f) => String(f.Description).startsWith('Fledge API:'));
    expect(api).toHaveLength(routes.length);
    for (const fn of api) {
      const env = fn.Environment.Variables as Record<string, string>;
      expect(JSON.parse(env.FLEDGE_OPERATORS!)).toEqual(CONTEXT.operators);
      expect(JSON.parse(env.FLEDGE_IAM_REPOSITORIES!)).toEqual({ 'arn:aws:iam::123456789012:role/ci-web': ['acme/web'], 'arn:aws:iam::123456789012:role/ci-*': ['acme/shared'] });
      expect(JSON.parse(env.FLEDGE_OIDC_OWNERS!)).toEqual(CONTEXT.oidcRepositoryOwners);
      // the default refused events, comma-separated (the 4 KB budget)
      expect(env.FLEDGE_OIDC_REFUSED_EVENTS).toBe('pull_request_target,workflow_run');
    }
    for (const fn of functions.filter((f) => !String(f.Description).startsWith('Fledge API:'))) {
      expect(fn.Environment?.Variables ?? {}).not.toHaveProperty('FLEDGE_OPERATORS');
      expect(fn.Environment?.Variables ?? {}).not.toHaveProperty('FLEDGE_OIDC_OWNERS');
      expect(fn.Environment?.Variables ?? {}).not.toHaveProperty('FLEDGE_OIDC_REFUSED_EVENTS');
    }
    Annotations.fromStack(synthesized.stack).hasNoInfo('*', Match.stringLikeRegexp('oidcRefusedEvents'));
  });

  it('keeps cdk-nag AwsSolutions clean', () => {
    const report = new AwsSolutionsChecks().validateScope(synthesized.stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

describe('the refused GitHub events (oidcRefusedEvents)', () => {
  let custom: Synthesized;
  let empty: Synthesized;
  beforeAll(() => {
    // issue_comment: e.g. a `/deploy` comment job that builds the pull request; pull_request_targets: a typo
    custom = synthFledge({ ...CONTEXT, oidcRefusedEvents: ['pull_request_target', 'issue_comment', 'pull_request_targets'] });
    empty = synthFledge({ ...CONTEXT, oidcRefusedEvents: [] });
  }, 120_000);
  afterAll(() => {
    custom?.dispose();
    empty?.dispose();
  });
  const apiVariables = (of: Synthesized) =>
    Object.values(of.template.findResources('AWS::Lambda::Function'))
      .filter((fn) => String(fn.Properties.Description).startsWith('Fledge API:'))
      .map((fn) => fn.Properties.Environment.Variables as Record<string, string>);

  it('passes a custom list to every API Lambda, warning about a name GitHub does not document', () => {
    expect(apiVariables(custom)).toHaveLength(routes.length);
    for (const variables of apiVariables(custom)) expect(variables.FLEDGE_OIDC_REFUSED_EVENTS).toBe('pull_request_target,issue_comment,pull_request_targets');
    const annotations = Annotations.fromStack(custom.stack);
    annotations.hasNoInfo('*', Match.stringLikeRegexp('oidcRefusedEvents'));
    annotations.hasWarning('*', Match.stringLikeRegexp('oidcRefusedEvents names pull_request_targets, not an event GitHub documents'));
    annotations.hasNoWarning('*', Match.stringLikeRegexp('names (pull_request_target|issue_comment),'));
    Annotations.fromStack(synthesized.stack).hasNoWarning('*', Match.stringLikeRegexp('oidcRefusedEvents'));
  });

  it('passes an empty list as "none" and says at synth what that lets in', () => {
    for (const variables of apiVariables(empty)) expect(variables.FLEDGE_OIDC_REFUSED_EVENTS).toBe('none');
    Annotations.fromStack(empty.stack).hasInfo('*', Match.stringLikeRegexp('oidcRefusedEvents is empty.*pull_request_target and workflow_run.*fork.*secrets'));
  });

  it('reads the list from cdk.json or -c, defaults it, and refuses what is not a GitHub event name', () => {
    const read = (context: Record<string, unknown>) => readConfig((key) => context[key]).oidcRefusedEvents;
    expect(read({})).toEqual(['pull_request_target', 'workflow_run']);
    expect(read({ oidcRefusedEvents: [] })).toEqual([]);
    expect(read({ oidcRefusedEvents: '[]' })).toEqual([]);
    expect(read({ oidcRefusedEvents: 'pull_request_target,issue_comment,issue_comment' })).toEqual(['pull_request_target', 'issue_comment']);
    expect(() => read({ oidcRefusedEvents: ['pull-request-target'] })).toThrow(/oidcRefusedEvents: "pull-request-target" is not a GitHub event name/);
    expect(() => read({ oidcRefusedEvents: ['Workflow_Run'] })).toThrow(ConfigError);
  });
});

describe('context', () => {
  const read = (context: Record<string, unknown>) => readConfig((key) => context[key]);

  it('has no CI API, no operators, no IAM map and no OIDC owners by default', () => {
    expect(read({})).toMatchObject({ oidcIssuer: GITHUB_ACTIONS_ISSUER, oidcAudiences: [], oidcRepositoryOwners: [], operators: [], iamRepositories: {} });
  });

  it('reads lists and the IAM map from -c strings as from cdk.json', () => {
    const config = read({ oidcAudiences: 'fledge,ci', oidcRepositoryOwners: '1234567,Acme', operators: 'arn:aws:iam::1:role/a', iamRepositories: '{"arn:aws:iam::1:role/ci":["a/b"]}' });
    expect(config).toMatchObject({
      oidcAudiences: ['fledge', 'ci'], oidcRepositoryOwners: ['1234567', 'Acme'], operators: ['arn:aws:iam::1:role/a'], iamRepositories: { 'arn:aws:iam::1:role/ci': ['a/b'] },
    });
  });

  it('refuses a CI API without an owner allow-list: any repository on github.com could get a token with its audience', () => {
    expect(() => read({ oidcAudiences: ['fledge'] })).toThrow(ConfigError);
    expect(() => read({ oidcAudiences: ['fledge'] })).toThrow(/oidcAudiences needs oidcRepositoryOwners.*any repository on github.com/);
    // the stack is never built: synth stops at the context
    expect(() => synthFledge({ oidcAudiences: ['fledge'] })).toThrow(/oidcRepositoryOwners/);
    // owners must be GitHub ids or names
    expect(() => read({ oidcAudiences: ['fledge'], oidcRepositoryOwners: ['acme/web'] })).toThrow(/oidcRepositoryOwners: "acme\/web" is neither/);
    expect(() => read({ oidcAudiences: ['fledge'], oidcRepositoryOwners: ['-acme'] })).toThrow(ConfigError);
  });

  it('refuses an issuer with a trailing slash (iss is compared exactly; GitHub\'s has none) and more than 50 audiences', () => {
    expect(() => read({ oidcIssuer: `${GITHUB_ACTIONS_ISSUER}/`, oidcAudiences: ['fledge'], oidcRepositoryOwners: ['acme'] })).toThrow(
      `use ${GITHUB_ACTIONS_ISSUER})`,
    );
    expect(() => read({ oidcIssuer: 'https://token.actions.githubusercontent.com/acme-enterprise/' })).toThrow(/must not end with "\/"/);
    expect(read({ oidcIssuer: 'https://token.actions.githubusercontent.com/acme-enterprise' }).oidcIssuer).toBe('https://token.actions.githubusercontent.com/acme-enterprise');
    const audiences = (n: number) => Array.from({ length: n }, (_, i) => `aud-${i}`);
    expect(read({ oidcAudiences: audiences(MAX_JWT_AUDIENCES), oidcRepositoryOwners: ['acme'] }).oidcAudiences).toHaveLength(50);
    expect(() => read({ oidcAudiences: audiences(MAX_JWT_AUDIENCES + 1), oidcRepositoryOwners: ['acme'] })).toThrow(/has 51 audiences.*at most 50/);
  });

  it('refuses a malformed issuer or IAM map, naming the key', () => {
    expect(() => read({ oidcIssuer: 'http://token.actions.githubusercontent.com' })).toThrow(ConfigError);
    expect(() => read({ oidcIssuer: 'https://issuer.example.com/?x=1' })).toThrow(/oidcIssuer/);
    expect(() => read({ iamRepositories: '{nope' })).toThrow(/iamRepositories/);
    expect(() => read({ iamRepositories: { 'role/ci': 'a/b' } })).toThrow(/not an IAM ARN pattern/);
    expect(() => read({ iamRepositories: { 'arn:aws:iam::1:role/ci': 'not-a-repository' } })).toThrow(/owner\/name/);
    expect(() => read({ iamRepositories: { 'arn:aws:iam::1:role/ci': [] } })).toThrow(/non-empty/);
  });
});
