/**
 * AWS's own service models (the `apis/*.min.json` shipped with aws-sdk v2) used two ways:
 *  - validate a request like the service does: unknown operation, missing required member,
 *    wrong type, unknown member (the real SDK v3 would drop it silently and Step Functions
 *    would refuse the definition; either way it is a bug worth a loud error locally);
 *  - convert between the SDK v3 member names (camelCase for ECS) and the PascalCase names
 *    Step Functions' aws-sdk integrations use in Parameters and results. Map keys
 *    (dockerLabels, log options, AAS tags) are data and are never renamed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { awsError, validationErrorCode, type SimService } from './errors.ts';

interface ShapeRef {
  shape?: string;
  type?: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
}

interface ServiceModel {
  operations: Record<string, { input?: ShapeRef; output?: ShapeRef }>;
  shapes: Record<string, ShapeRef>;
}

const MODEL_FILES: Record<SimService, string> = {
  ecs: 'ecs-2014-11-13',
  elasticloadbalancingv2: 'elasticloadbalancingv2-2015-12-01',
  cloudwatch: 'monitoring-2010-08-01',
  applicationautoscaling: 'application-autoscaling-2016-02-06',
  sns: 'sns-2010-03-31',
  logs: 'logs-2014-03-28',
  route53: 'route53-2013-04-01',
};

const models = new Map<SimService, ServiceModel>();
const require = createRequire(import.meta.url);

function model(service: SimService): ServiceModel {
  let loaded = models.get(service);
  if (!loaded) {
    const file = require.resolve(`aws-sdk/apis/${MODEL_FILES[service]}.min.json`);
    loaded = JSON.parse(readFileSync(file, 'utf8')) as ServiceModel;
    models.set(service, loaded);
  }
  return loaded;
}

function resolve(service: SimService, ref: ShapeRef | undefined): ShapeRef {
  if (!ref) return { type: 'structure', members: {} };
  const base = ref.shape ? resolve(service, model(service).shapes[ref.shape]) : {};
  const merged = { ...base, ...ref };
  delete merged.shape;
  if (!merged.type) merged.type = merged.members ? 'structure' : 'string';
  return merged;
}

export function hasOperation(service: SimService, action: string): boolean {
  return Boolean(model(service).operations[action]);
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export type NameStyle = 'sdk' | 'sfn';

/**
 * Validate `input` against the operation's input shape and return it with SDK v3 member
 * names. `style: 'sfn'` also accepts PascalCase member names (Step Functions Parameters).
 */
export function normalizeInput(service: SimService, action: string, input: unknown, style: NameStyle): Record<string, unknown> {
  const operation = model(service).operations[action];
  if (!operation) {
    throw awsError(service, service === 'ecs' ? 'UnknownOperationException' : 'InvalidAction', `The action ${action} is not valid for this web service.`);
  }
  const errors: string[] = [];
  const value = walkInput(service, resolve(service, operation.input), input ?? {}, '', style, errors);
  if (errors.length > 0) {
    const message =
      errors.length === 1 ? `1 validation error detected: ${errors[0]}` : `${errors.length} validation errors detected: ${errors.join('; ')}`;
    throw awsError(service, validationErrorCode(service), message);
  }
  return value as Record<string, unknown>;
}

function walkInput(service: SimService, shape: ShapeRef, value: unknown, path: string, style: NameStyle, errors: string[]): unknown {
  if (value === undefined || value === null) return undefined;
  const at = path || 'input';
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.push(`Value at '${at}' failed to satisfy constraint: Member must be a structure`);
        return undefined;
      }
      const members = shape.members ?? {};
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
        if (key === '$metadata') continue;
        let name: string | undefined = key in members ? key : undefined;
        if (!name && style === 'sfn') {
          name = Object.keys(members).find((m) => capitalize(m) === key || m.toLowerCase() === key.toLowerCase());
        }
        if (!name) {
          errors.push(`Member '${path ? `${path}.` : ''}${key}' is not part of the AWS model`);
          continue;
        }
        const converted = walkInput(service, resolve(service, members[name]), member, path ? `${path}.${name}` : name, style, errors);
        if (converted !== undefined) out[name] = converted;
      }
      for (const required of shape.required ?? []) {
        if (out[required] === undefined) {
          errors.push(`Value null at '${path ? `${path}.` : ''}${required}' failed to satisfy constraint: Member must not be null`);
        }
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        errors.push(`Value at '${at}' failed to satisfy constraint: Member must be a list`);
        return undefined;
      }
      const memberShape = resolve(service, shape.member);
      return value.map((item, i) => walkInput(service, memberShape, item, `${path}.${i + 1}.member`, style, errors));
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.push(`Value at '${at}' failed to satisfy constraint: Member must be a map`);
        return undefined;
      }
      const valueShape = resolve(service, shape.value);
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walkInput(service, valueShape, v, `${path}.${k}`, style, errors)]),
      );
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        errors.push(`Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must be an integer`);
        return undefined;
      }
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') {
        errors.push(`Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must be a number`);
        return undefined;
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') {
        errors.push(`Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must be a boolean`);
        return undefined;
      }
      return value;
    case 'timestamp':
      if (value instanceof Date) return value;
      if (typeof value === 'string' || typeof value === 'number') {
        const date = new Date(typeof value === 'number' && value < 1e11 ? value * 1000 : value);
        if (!Number.isNaN(date.getTime())) return date;
      }
      errors.push(`Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must be a timestamp`);
      return undefined;
    default:
      if (typeof value !== 'string') {
        errors.push(`Value '${JSON.stringify(value)}' at '${at}' failed to satisfy constraint: Member must be a string`);
        return undefined;
      }
      return value;
  }
}

/**
 * An SDK-shaped output as a Step Functions aws-sdk integration returns it: PascalCase
 * member names, timestamps as ISO strings, no `$metadata`.
 */
export function toSfnOutput(service: SimService, action: string, output: unknown): unknown {
  const operation = model(service).operations[action];
  return walkOutput(service, resolve(service, operation?.output), output);
}

function walkOutput(service: SimService, shape: ShapeRef, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (value instanceof Date) return value.toISOString();
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return value;
      const members = shape.members ?? {};
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
        if (key === '$metadata' || member === undefined) continue;
        out[capitalize(key)] = walkOutput(service, resolve(service, members[key]), member);
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => walkOutput(service, resolve(service, shape.member), item)) : value;
    case 'map':
      return typeof value === 'object'
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walkOutput(service, resolve(service, shape.value), v)]))
        : value;
    default:
      return value;
  }
}
