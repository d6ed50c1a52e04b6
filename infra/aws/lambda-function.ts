/**
 * One Fledge Lambda: a NodejsFunction bundled by the local esbuild (never Docker), Node 22 on
 * arm64, ESM output, with its own role and its own log group (so the role needs no AWS managed
 * policy and no `logs:*` on `*`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root (infra/aws/ is two levels below it). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Modules the SDK's default credential chain imports only when it looks past the environment. */
export const LAZY_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
];

/** ESM bundles have no `require`; some CommonJS dependencies call it. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __fledgeCreateRequire } from 'node:module'; const require = __fledgeCreateRequire(import.meta.url);";

export interface FledgeFunctionProps {
  /** path of the handler module, relative to the repository root (e.g. `functions/api/get-health.ts`) */
  entry: string;
  description: string;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy?: RemovalPolicy;
  /** default 256 MB */
  memorySize?: number;
  /** default 29 s for the API (API Gateway's limit is 30 s) */
  timeout?: Duration;
  /** The directory that holds `functions/` (tests may point it elsewhere); default: the repository root. */
  sourceRoot?: string;
}

export class FledgeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FledgeFunctionProps) {
    super(scope, id);
    const root = props.sourceRoot ?? REPO_ROOT;
    const entry = join(root, props.entry);
    if (!existsSync(entry)) {
      throw new Error(`Lambda handler ${props.entry} does not exist (looked in ${root})`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${Stack.of(this).stackName} ${id}: ${props.description}`.slice(0, 1000),
    });
    // What AWSLambdaBasicExecutionRole would give, scoped to this function's own log group.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(29),
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray traces (the Powertools tracer of functions/lambda/powertools-stack.ts adds a subsegment per invocation)
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The AWS SDK v3 is bundled (minified ESM loads in ~40 ms where the same clients
        // imported from node_modules take ~130 ms), and each function imports only the clients
        // it calls (functions/adapters/clients/). Left out are the credential providers the
        // default chain loads lazily and only when the environment holds no credentials, which
        // never happens in Lambda; should one be needed, the runtime's own SDK provides it.
        // Measured by `npm run bench` (bundle size and cold import time).
        bundleAwsSDK: true,
        externalModules: LAZY_CREDENTIAL_PROVIDERS,
        tsconfig: join(root, 'tsconfig.json'),
        logLevel: LogLevel.WARNING,
      },
    });
  }
}

/** What a construct passes from its own props to each of its Lambdas. */
export type SharedFunctionProps = Pick<FledgeFunctionProps, 'environment' | 'logRetention' | 'logRemovalPolicy' | 'sourceRoot'>;

/** A Fledge Lambda with the shared settings of its construct; `own` says the rest (and may replace the environment). */
export function sharedFunction(
  scope: Construct,
  id: string,
  shared: SharedFunctionProps,
  own: Omit<FledgeFunctionProps, keyof SharedFunctionProps> & Pick<Partial<FledgeFunctionProps>, 'environment'>,
): FledgeFunction {
  const { environment, logRetention, logRemovalPolicy, sourceRoot } = shared;
  return new FledgeFunction(scope, id, { environment, logRetention, logRemovalPolicy, sourceRoot, ...own });
}

/** The Lambda of `functions/events/<name>.ts`. */
export function eventFunction(
  scope: Construct,
  id: string,
  name: string,
  shared: SharedFunctionProps,
  own: Omit<FledgeFunctionProps, keyof SharedFunctionProps | 'entry'> & Pick<Partial<FledgeFunctionProps>, 'environment'>,
): FledgeFunction {
  return sharedFunction(scope, id, shared, { entry: `functions/events/${name}.ts`, ...own });
}
