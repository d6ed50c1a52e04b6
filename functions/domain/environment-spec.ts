/**
 * The environment resource (README "Using the API"): one zod schema gives the TypeScript types, the
 * request validation and the OpenAPI document (functions/contract/openapi.ts; descriptions in `.meta()`).
 */
import * as z from 'zod';
import { DURATION_PATTERN, parseDuration } from './durations.ts';
import { FARGATE_CPU_VALUES, FARGATE_MEMORY_BY_CPU, isValidFargatePair, taskSizeProblem } from './fargate-sizes.ts';
import { commandOverrideProblem, DEFAULT_HOOK_TIMEOUT_SECONDS, MAX_COMMAND_ITEMS, MAX_HOOK_TIMEOUT_SECONDS, MIN_HOOK_TIMEOUT_SECONDS } from './hooks.ts';
import { MAX_SIDECARS, SIDECAR_MEMORY_RESERVATION_MIB, SIDECAR_NAME_PATTERN, sidecarProblems, type SpecProblem } from './sidecars.ts';

export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export const environmentName = z
  .string()
  .regex(NAME_PATTERN, 'must be a DNS label of 1-32 lowercase letters, digits and hyphens, not starting or ending with a hyphen')
  .refine((name) => !name.startsWith('internal-'), 'must not start with "internal-" (reserved by Elastic Load Balancing)');

/**
 * OCI image reference: [registry[:port]/]repository[:tag][@sha256:digest]
 * (the grammar of distribution/reference, lowercase repository components).
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)';
/** a registry is only recognised as such when it has a dot or a port, or is localhost (as docker parses it) */
const REGISTRY = `(?:localhost(?::[0-9]+)?|${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})+(?::[0-9]+)?|${DOMAIN_COMPONENT}:[0-9]+)`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const IMAGE_PATTERN = new RegExp(
  `^(?:${REGISTRY}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/**
 * ECS RegisterTaskDefinition, ContainerDefinition `image`: "up to 255 characters total are
 * allowed, including letters (uppercase and lowercase), numbers, hyphens, underscores, colons,
 * periods, forward slashes, and number signs (#). For images using digests
 * (repository-url/image@digest), the 255 character limit applies only to the repository URL
 * and image name (everything before the @ sign)" — Amazon ECS API Reference, ContainerDefinition
 * `image` (the same text in the SDK reference:
 * https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/ecs/aws.sdk.kotlin.services.ecs.model/-container-definition/image.html).
 * The OCI grammar below accepts a subset of those characters (no `#`), so what passes here ECS takes.
 */
export const MAX_IMAGE_NAME_LENGTH = 255;
const DIGEST_SUFFIX_LENGTH = '@sha256:'.length + 64;

export const imageReference = z.string().superRefine((image, ctx) => {
  const beforeDigest = image.split('@')[0]!;
  if (beforeDigest.length > MAX_IMAGE_NAME_LENGTH || image.length > MAX_IMAGE_NAME_LENGTH + DIGEST_SUFFIX_LENGTH) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_IMAGE_NAME_LENGTH} characters before any @digest (an ECS limit)` });
  } else if (!IMAGE_PATTERN.test(image)) {
    ctx.addIssue({ code: 'custom', message: 'must be an OCI image reference: registry/repository[:tag][@sha256:digest]' });
  }
});

const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** our own bound on a variable or secret name (ECS documents none; the 32 KiB total still applies) */
const MAX_VARIABLE_NAME_LENGTH = 255;
/**
 * `__proto__` is refused as a key anywhere in a spec or patch (environment, secrets, labels,
 * healthCheck...): assigning it to a JavaScript object sets the prototype instead of a key, so
 * zod (which strips it before any key check runs), the merge patch and the DynamoDB marshaller
 * would each drop it silently. `constructor` and `prototype` are ordinary keys and are kept.
 */
export const RESERVED_KEY = '__proto__';

/**
 * `__proto__` keys of a request body and of the maps in it (a spec nests two levels deep, and each
 * of its `sidecars` is a container with the same maps), as `errors[]` entries.
 */
export function reservedKeyErrors(body: unknown, at = ''): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  const message = `"${RESERVED_KEY}" cannot be used as a name`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return errors;
  if (Object.hasOwn(body, RESERVED_KEY)) errors.push({ path: `${at}${RESERVED_KEY}`, message });
  for (const [field, value] of Object.entries(body)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, RESERVED_KEY)) {
      errors.push({ path: `${at}${field}.${RESERVED_KEY}`, message });
    }
    if (field === 'sidecars' && !at && Array.isArray(value)) value.forEach((sidecar, index) => errors.push(...reservedKeyErrors(sidecar, `sidecars.${index}.`)));
  }
  return errors;
}
/** ECS Secret `valueFrom`: the full ARN of a Secrets Manager secret or an SSM parameter; ARNs are at most 2048 characters */
const MAX_ARN_LENGTH = 2048;
const SECRET_ARN = /^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter\/.+)$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,62}$/;
const MAX_ENVIRONMENT_BYTES = 32 * 1024;

const variableName = (what: string) =>
  z
    .string()
    .max(MAX_VARIABLE_NAME_LENGTH, `${what} names are at most ${MAX_VARIABLE_NAME_LENGTH} characters`)
    .regex(ENV_VAR_NAME, `${what} names must match ^[A-Za-z_][A-Za-z0-9_]*$`);

export const environmentVariables = z
  .record(variableName('environment variable'), z.string())
  .refine((vars) => Object.keys(vars).length <= 100, 'at most 100 environment variables')
  .refine(
    (vars) => Buffer.byteLength(JSON.stringify(vars), 'utf8') <= MAX_ENVIRONMENT_BYTES,
    'environment variables must total at most 32 KiB',
  );

export const secretReferences = z
  .record(
    variableName('secret'),
    z.string().max(MAX_ARN_LENGTH, `ARNs are at most ${MAX_ARN_LENGTH} characters`).regex(SECRET_ARN, 'must be a Secrets Manager secret ARN or an SSM parameter ARN'),
  )
  .refine((secrets) => Object.keys(secrets).length <= 100, 'at most 100 secrets');

/**
 * ELB CreateTargetGroup / ModifyTargetGroup `HealthCheckPath`: 1-1024 characters
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html).
 * The path is sent as the request target of the HTTP/1.1 health check, which AWS describes as
 * "a valid URI (for example, /path?query)" (VPC Lattice HealthCheckConfig `path`,
 * https://docs.aws.amazon.com/vpc-lattice/latest/APIReference/API_HealthCheckConfig.html); a URI
 * (RFC 3986) has visible ASCII only, so spaces, controls and non-ASCII are refused here rather
 * than by ELB inside the workflow (percent-encode them).
 */
const HEALTH_CHECK_PATH = /^\/[\x21-\x7e]{0,1023}$/;

export const healthCheckSettings = z.strictObject({
  path: z
    .string()
    .max(1024, 'must be at most 1024 characters (an ELB limit)')
    .regex(HEALTH_CHECK_PATH, 'must start with / and contain only visible ASCII characters (no spaces; percent-encode others)')
    .default('/'),
  // Preview environments favour fast feedback over noise: a 10 s interval and 2 healthy
  // checks put a new task in service in ~20 s instead of the ALB default of 150 s.
  intervalSeconds: z.int().min(5).max(300).default(10),
  timeoutSeconds: z.int().min(2).max(120).default(5),
  healthyThreshold: z.int().min(2).max(10).default(2),
  unhealthyThreshold: z.int().min(2).max(10).default(3),
});

export const autoscalingSettings = z
  .strictObject({
    minCount: z.int().min(1).max(10),
    maxCount: z.int().min(1).max(10),
    targetCpuPercent: z.int().min(10).max(90).default(60),
  })
  .refine((a) => a.minCount <= a.maxCount, { message: 'minCount must not exceed maxCount', path: ['minCount'] });

/** A sidecar: another container of the environment's task, validated like the app's (functions/domain/sidecars.ts). */
export const sidecarSchema = z.strictObject({
  name: z
    .string()
    .regex(SIDECAR_NAME_PATTERN, 'must be 1-31 lowercase letters, digits and hyphens, starting with a letter')
    .meta({ description: 'the container\'s name (not `app`, unique in the spec)', example: 'db' }),
  image: imageReference.meta({ description: 'an OCI reference, under the same rules as the app\'s image', example: 'postgres:16' }),
  environment: environmentVariables.default({}).meta({ description: 'its environment variables (at most 100, 32 KiB in all)' }),
  secrets: secretReferences.default({}).meta({ description: 'variables read from secrets the repository owns, as the app\'s' }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'the port it listens on: the app reaches it on `localhost:<port>` (one network namespace per task, so it differs from the app\'s and every other sidecar\'s)' }),
  essential: z.boolean().default(true).meta({ description: 'when true (ECS\'s default) the task stops when this container exits' }),
}).meta({ id: 'Sidecar', description: 'another container of the environment\'s task: its logs go to the same log group, `fledge/<name>/<task id>`' });

export const sidecarList = z.array(sidecarSchema).max(MAX_SIDECARS, `at most ${MAX_SIDECARS} sidecars`);

/** One hook: a command run in a one-off task of the environment's task definition (its `app` container). */
export const hookSchema = z.strictObject({
  command: z
    // a NUL cannot be passed in an exec argument (the kernel ends a word at it): refuse it here, not in the task
    .array(z.string().min(1, 'must not be empty').refine((word) => !word.includes('\u0000'), 'must not contain a NUL character'))
    .min(1, 'must have at least one word')
    .max(MAX_COMMAND_ITEMS, `at most ${MAX_COMMAND_ITEMS} words`)
    .superRefine((command, ctx) => {
      const problem = commandOverrideProblem(command);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: 'the command the app container runs instead of its own (exec form: one word per item)', example: ['npm', 'run', 'db:seed'] }),
  timeoutSeconds: z
    .int()
    .min(MIN_HOOK_TIMEOUT_SECONDS)
    .max(MAX_HOOK_TIMEOUT_SECONDS)
    .default(DEFAULT_HOOK_TIMEOUT_SECONDS)
    .meta({ description: 'how long the command may run before the hook fails' }),
}).meta({ id: 'Hook', description: 'a command run in a one-off Fargate task of the environment\'s task definition, with its image, variables, secrets, sidecars and network' });

/** The hooks of a spec (functions/domain/hooks.ts HOOK_NAMES lists the same four; a unit test keeps them equal). */
export const hookSettings = z.strictObject({
  afterCreate: hookSchema.optional().meta({ description: 'runs once the create\'s service is steady; failing fails the create (its compensation removes what it made)' }),
  beforeUpdate: hookSchema.optional().meta({ description: 'runs with the new spec before the update deploys it (a migration); failing keeps the previous version serving' }),
  afterUpdate: hookSchema.optional().meta({ description: 'runs once the update\'s deployment is steady' }),
  beforeDelete: hookSchema.optional().meta({ description: 'runs before the teardown; failing is recorded and does not block the teardown' }),
});

export const MAX_LABEL_VALUE_LENGTH = 256;

export const labelMap = z
  .record(z.string().regex(LABEL_KEY, 'label keys are 1-63 letters, digits and _.:/-'), z.string().max(MAX_LABEL_VALUE_LENGTH))
  .refine((labels) => Object.keys(labels).length <= 50, 'at most 50 labels')
  // an empty repository could never be listed, filtered or pruned (`?repository=` takes 1-256 characters)
  .refine((labels) => labels.repository !== '', { message: 'must not be empty: it names the owner/name repository the environment belongs to', path: ['repository'] });

export interface SpecLimits {
  /** longest ttl an operator allows, in ms (default 30d) */
  maxTtlMs: number;
}

export const DEFAULT_TTL = '72h';

/** ECS refuses a container definition naming one variable in both `environment` and `secrets`. */
function variablesInBothMaps(container: { environment: Record<string, string>; secrets: Record<string, string> }, at: (string | number)[]): SpecProblem[] {
  return Object.keys(container.secrets)
    .filter((name) => Object.hasOwn(container.environment, name))
    .flatMap((name) => [
      { path: [...at, 'environment', name], message: `also defined in secrets.${name}; a variable comes from one or the other` },
      { path: [...at, 'secrets', name], message: `also defined in environment.${name}; a variable comes from one or the other` },
    ]);
}

/** The full spec as a client sends it (PUT / POST), with defaults applied on parse. */
export function environmentSpecSchema(limits: SpecLimits) {
  return z
    .strictObject({
      image: imageReference.meta({ description: "the container image: an OCI reference, `registry/repository[:tag][@sha256:<digest>]`; from the installation's own ECR only the repository's namespace, `<root>/<owner>/<name>/...` in lower case", example: 'ghcr.io/acme/web:pr-42' }),
      port: z.int().min(1).max(65535).default(8080).meta({ description: 'the port the container listens on' }),
      cpu: z.union(FARGATE_CPU_VALUES.map((cpu) => z.literal(cpu))).default(256).meta({ description: 'Fargate CPU units (1024 = 1 vCPU)' }),
      memory: z.int().positive().default(512).meta({ description: 'MiB; one of the sizes Fargate allows with the cpu' }),
      desiredCount: z.int().min(0).max(10).default(1).meta({ description: 'tasks to run; 0 puts the environment to sleep' }),
      autoscaling: autoscalingSettings.optional().meta({ description: 'target tracking on the service\'s CPU; desiredCount must lie within minCount..maxCount' }),
      environment: environmentVariables.default({}).meta({ description: 'environment variables of the container (at most 100, 32 KiB in all)' }),
      secrets: secretReferences.default({}).meta({ description: 'variables read from ARNs of secrets the repository owns (Secrets Manager or SSM); a name is in environment or in secrets, not both' }),
      healthCheck: healthCheckSettings.meta({ description: 'the load balancer\'s health check of the tasks' }).default({
        path: '/',
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      }),
      ttl: z
        .string()
        .regex(DURATION_PATTERN, 'must be a duration like "90m", "72h" or "7d" (at least 1m)')
        .refine((ttl) => (parseDuration(ttl) ?? Infinity) <= limits.maxTtlMs, 'exceeds the maximum ttl this installation allows')
        .default(DEFAULT_TTL)
        .meta({ description: 'how long after its last create or update the environment expires; at most the installation\'s maxTtl (30d by default)' }),
      labels: labelMap.default({}).meta({ description: 'free labels (at most 50); `repository` (owner/name, fixed at create) and `branch` are what lists filter on' }),
      sidecars: sidecarList.optional().meta({ description: `at most ${MAX_SIDECARS} more containers in the same task (a database, a cache, a mock service), reachable from the app on \`localhost:<port>\`; each reserves ${SIDECAR_MEMORY_RESERVATION_MIB} MiB of the task's memory` }),
      hooks: hookSettings.optional().meta({ description: 'commands run as one-off tasks of the environment\'s own task definition (seed, migrate): `afterCreate`, `beforeUpdate`, `afterUpdate`, `beforeDelete`' }),
    })
    .superRefine((spec, ctx) => {
      if (!isValidFargatePair(spec.cpu, spec.memory)) {
        ctx.addIssue({
          code: 'custom',
          path: ['memory'],
          message: `memory ${spec.memory} is not valid with cpu ${spec.cpu}; allowed: ${FARGATE_MEMORY_BY_CPU[spec.cpu]?.join(', ')}`,
        });
      }
      const sizeProblem = spec.sidecars && isValidFargatePair(spec.cpu, spec.memory) ? taskSizeProblem(spec.cpu, spec.memory, spec.sidecars.length) : undefined;
      // `params.taskSize`: the problem's detail says it too (functions/domain/spec-validation.ts)
      if (sizeProblem) ctx.addIssue({ code: 'custom', path: ['memory'], message: sizeProblem, params: { taskSize: true } });
      for (const problem of sidecarProblems(spec.sidecars ?? [], spec.port)) ctx.addIssue({ code: 'custom', ...problem });
      if (spec.healthCheck.timeoutSeconds >= spec.healthCheck.intervalSeconds) {
        ctx.addIssue({ code: 'custom', path: ['healthCheck', 'timeoutSeconds'], message: 'must be less than intervalSeconds' });
      }
      for (const problem of variablesInBothMaps(spec, [])) ctx.addIssue({ code: 'custom', ...problem });
      spec.sidecars?.forEach((sidecar, index) => {
        for (const problem of variablesInBothMaps(sidecar, ['sidecars', index])) ctx.addIssue({ code: 'custom', ...problem });
      });
      if (spec.autoscaling && spec.autoscaling.minCount <= spec.autoscaling.maxCount && spec.desiredCount > 0 && (spec.desiredCount < spec.autoscaling.minCount || spec.desiredCount > spec.autoscaling.maxCount)) {
        ctx.addIssue({ code: 'custom', path: ['desiredCount'], message: 'must lie within autoscaling minCount..maxCount' });
      }
    });
}

export type EnvironmentSpec = z.output<ReturnType<typeof environmentSpecSchema>>;
export type EnvironmentSpecInput = z.input<ReturnType<typeof environmentSpecSchema>>;

/** A PATCH body: any subset of the spec's fields; maps merge key by key (RFC 7396, null deletes). */
export const environmentPatchSchema = z.strictObject({
  image: z.string().optional(),
  port: z.unknown().optional(),
  cpu: z.unknown().optional(),
  memory: z.unknown().optional(),
  desiredCount: z.unknown().optional(),
  autoscaling: z.unknown().optional(),
  environment: z.record(z.string(), z.string().nullable()).optional(),
  secrets: z.record(z.string(), z.string().nullable()).optional(),
  healthCheck: z.record(z.string(), z.unknown()).optional(),
  ttl: z.unknown().optional(),
  // `null` removes every label but `repository`, which is fixed at create (spec-validation.ts applyPatch)
  labels: z
    .record(z.string(), z.string().nullable())
    .nullable()
    .optional()
    .meta({ description: '`null` removes a label; `labels: null` removes every label but `repository`, which is fixed at create (removing or changing it is a 400 naming `labels.repository`)' }),
  // an array replaces the list (RFC 7396 merges objects only), null removes it
  sidecars: z.unknown().optional(),
  // merges hook by hook: `{"hooks": {"beforeUpdate": null}}` removes one, `{"hooks": null}` all
  hooks: z.record(z.string(), z.unknown()).nullable().optional(),
});

/**
 * An empty list of sidecars and an empty set of hooks say the same as none (a PATCH that removes the
 * last hook leaves `hooks: {}`): they are dropped, so the stored spec compares equal to one without them.
 */
export function normalizedSpec(spec: EnvironmentSpec): EnvironmentSpec {
  const emptySidecars = spec.sidecars !== undefined && spec.sidecars.length === 0;
  const emptyHooks = spec.hooks !== undefined && Object.values(spec.hooks).every((hook) => hook === undefined);
  if (!emptySidecars && !emptyHooks) return spec;
  const { sidecars, hooks, ...rest } = spec;
  return { ...rest, ...(emptySidecars ? {} : sidecars ? { sidecars } : {}), ...(emptyHooks ? {} : hooks ? { hooks } : {}) };
}
