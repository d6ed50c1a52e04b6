/**
 * The HTTP APIs (API Gateway v2): one Lambda per entry of `functions/contract/routes.ts`, served by
 *  - the API (always): every route behind IAM (SigV4) authorization;
 *  - the CI API (when OIDC audiences are configured): the same routes and the same Lambdas
 *    behind a JWT authorizer for GitHub Actions OIDC tokens.
 * An HTTP API route has exactly one authorizer, so IAM and JWT callers cannot share a route:
 * two APIs keep each route single-purpose (API Gateway Developer Guide, "Control access to
 * HTTP APIs with JWT authorizers in API Gateway"). Each has its own stage throttling and
 * access logs; the Lambdas map either kind of caller to a principal
 * (functions/lambda/principal.ts).
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { routes, type RouteDefinition } from '../../functions/contract/routes.ts';
import { FledgeFunction } from './lambda-function.ts';

export interface HttpApiProps {
  table: dynamodb.ITable;
  stateMachines: sfn.IStateMachine[];
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  throttle: { rateLimit: number; burstLimit: number };
  sourceRoot?: string;
  /** GitHub Actions OIDC: with audiences, a second API (the CI API) serves the routes behind a JWT authorizer */
  oidc?: { issuer: string; audiences: string[] };
  /** what a route's Lambda may do beyond the table and the workflows, by handler (the logs route reads CloudWatch Logs) */
  routeGrants?: Partial<Record<string, (role: iam.IRole) => void>>;
}

/** What the access logs of both APIs record (the CI API adds the token's subject and repository). */
function accessLogFormat(extra: Record<string, string> = {}): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      caller: '$context.identity.caller',
      user: '$context.identity.userArn',
      requestTime: '$context.requestTime',
      routeKey: '$context.routeKey',
      status: '$context.status',
      protocol: '$context.protocol',
      responseLength: '$context.responseLength',
      latencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integrationLatency',
      integrationError: '$context.integrationErrorMessage',
      authorizerError: '$context.authorizer.error',
      ...extra,
    }),
  );
}

/** PascalCase construct id of a handler file name: `put-environment` -> `PutEnvironment`. */
export function handlerId(handler: string): string {
  return handler.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

export class FledgeHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The CI API (JWT authorizer for GitHub Actions OIDC tokens), when OIDC audiences are configured. */
  readonly ciApi?: { api: apigwv2.HttpApi; stage: apigwv2.HttpStage; accessLogs: logs.LogGroup; authorizer: HttpJwtAuthorizer };
  /** One function per route, in the order of `routes`. */
  readonly functions: { route: RouteDefinition; fn: FledgeFunction }[] = [];

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Fledge control plane API (v1): preview environments on ECS Fargate',
      createDefaultStage: false,
      // IAM (SigV4) everywhere; each route also names it explicitly below.
      defaultAuthorizer: new HttpIamAuthorizer(),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: accessLogFormat(),
      },
    });

    const authorizer = new HttpIamAuthorizer();
    if (props.oidc) {
      const jwtAuthorizer = new HttpJwtAuthorizer('GitHubActionsOidc', props.oidc.issuer, {
        jwtAudience: props.oidc.audiences,
        identitySource: ['$request.header.Authorization'],
      });
      const api = new apigwv2.HttpApi(this, 'CiApi', {
        description: 'Fledge control plane API (v1) for CI: GitHub Actions OIDC tokens (JWT authorizer); same routes and Lambdas as the IAM API',
        createDefaultStage: false,
        defaultAuthorizer: jwtAuthorizer,
      });
      const accessLogs = new logs.LogGroup(this, 'CiAccessLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
      const stage = api.addStage('CiDefaultStage', {
        stageName: '$default',
        autoDeploy: true,
        throttle: props.throttle,
        accessLogSettings: {
          destination: new apigwv2.LogGroupLogDestination(accessLogs),
          format: accessLogFormat({ sub: '$context.authorizer.claims.sub', repository: '$context.authorizer.claims.repository' }),
        },
      });
      this.ciApi = { api, stage, accessLogs, authorizer: jwtAuthorizer };
    }
    for (const route of routes) {
      const name = handlerId(route.handler);
      const fn = new FledgeFunction(this, name, {
        entry: `functions/api/${route.handler}.ts`,
        description: `Fledge API: ${route.method} ${route.path}`,
        environment: props.environment,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        timeout: Duration.seconds(29),
        sourceRoot: props.sourceRoot,
      });
      if (route.mutates) {
        props.table.grantReadWriteData(fn.role);
        for (const machine of props.stateMachines) {
          machine.grantStartExecution(fn.role);
          // DELETE supersedes a running operation; a PUT may restart one.
          machine.grantExecution(fn.role, 'states:StopExecution', 'states:DescribeExecution');
        }
      } else {
        props.table.grantReadData(fn.role);
      }
      props.routeGrants?.[route.handler]?.(fn.role);
      new apigwv2.HttpRoute(this, `${name}Route`, {
        httpApi: this.api,
        routeKey: apigwv2.HttpRouteKey.with(route.path, route.method as apigwv2.HttpMethod),
        integration: new HttpLambdaIntegration(`${name}Integration`, fn.function, {
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        }),
        authorizer,
      });
      if (this.ciApi) {
        new apigwv2.HttpRoute(this, `${name}CiRoute`, {
          httpApi: this.ciApi.api,
          routeKey: apigwv2.HttpRouteKey.with(route.path, route.method as apigwv2.HttpMethod),
          integration: new HttpLambdaIntegration(`${name}CiIntegration`, fn.function, {
            payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
          }),
          authorizer: this.ciApi.authorizer,
        });
      }
      this.functions.push({ route, fn });
    }
  }

  /** `https://<api-id>.execute-api.<region>.amazonaws.com/` */
  get url(): string {
    return this.stage.url;
  }

  /** The CI API's base URL (undefined without OIDC audiences). */
  get ciUrl(): string | undefined {
    return this.ciApi?.stage.url;
  }
}
