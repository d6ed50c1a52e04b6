/**
 * Checks request parameters against the AWS service models that ship with aws-sdk v2
 * (node_modules/aws-sdk/apis/<service>-<version>.min.json), in the PascalCase shape Step
 * Functions' AWS SDK integrations use: every key must be a member of its input shape (first
 * letter case-insensitive), required members must be present, nested literals recursively.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const APIS = join(import.meta.dirname, '..', '..', 'node_modules', 'aws-sdk', 'apis');

interface Shape {
  type?: string;
  shape?: string;
  required?: string[];
  members?: Record<string, Shape>;
  member?: Shape;
  value?: Shape;
  key?: Shape;
}

interface Model {
  operations: Record<string, { input?: Shape }>;
  shapes: Record<string, Shape>;
}

const models = new Map<string, Model>();

/** `aws-sdk:<service>` integration names whose model file is named otherwise. */
const MODEL_FILE_PREFIX: Record<string, string> = { applicationautoscaling: 'application-autoscaling', cloudwatch: 'monitoring' };

export function serviceModel(service: string): Model {
  let model = models.get(service);
  if (!model) {
    const file = readdirSync(APIS)
      // `route53-2013-04-01`, not `route53-recovery-cluster-...`: the prefix, then the API version
      .filter((f) => new RegExp(`^${MODEL_FILE_PREFIX[service] ?? service}-\\d{4}-\\d{2}-\\d{2}\\.min\\.json$`).test(f))
      .sort()
      .pop();
    if (!file) throw new Error(`no service model for ${service} in aws-sdk/apis`);
    model = JSON.parse(readFileSync(join(APIS, file), 'utf8')) as Model;
    models.set(service, model);
  }
  return model;
}

function resolve(model: Model, shape: Shape | undefined): Shape {
  let current = shape ?? {};
  while (current.shape) current = { ...model.shapes[current.shape], ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== 'shape')) };
  return current;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** Problems of `value` against `shape` at `path`; dynamic (`.$`) values are not checked below their key. */
export function checkAgainstShape(model: Model, shapeRef: Shape | undefined, value: unknown, path: string): string[] {
  const shape = resolve(model, shapeRef);
  const problems: string[] = [];
  if (shape.type === 'structure' || shape.members) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
    const members = shape.members ?? {};
    const byPascal = new Map(Object.keys(members).map((m) => [pascal(m), m]));
    const given = new Set<string>();
    for (const [rawKey, child] of Object.entries(value)) {
      const dynamic = rawKey.endsWith('.$');
      const key = dynamic ? rawKey.slice(0, -2) : rawKey;
      const member = byPascal.get(pascal(key));
      if (!member) {
        problems.push(`${path}.${key}: not a member (members: ${[...byPascal.keys()].join(', ')})`);
        continue;
      }
      given.add(member);
      if (!dynamic) problems.push(...checkAgainstShape(model, members[member], child, `${path}.${key}`));
    }
    for (const required of shape.required ?? []) {
      if (!given.has(required)) problems.push(`${path}.${pascal(required)}: required member missing`);
    }
  } else if (shape.type === 'list') {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    value.forEach((item, i) => problems.push(...checkAgainstShape(model, shape.member, item, `${path}[${i}]`)));
  } else if (shape.type === 'map') {
    if (typeof value !== 'object' || value === null) return [`${path}: expected a map`];
  } else if (shape.type === 'integer' || shape.type === 'long' || shape.type === 'double' || shape.type === 'float') {
    if (typeof value !== 'number') problems.push(`${path}: expected a number`);
  } else if (shape.type === 'boolean') {
    if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean`);
  } else if (!shape.type || shape.type === 'string' || shape.type === 'timestamp') {
    if (typeof value !== 'string') problems.push(`${path}: expected a string`);
  }
  return problems;
}

/** The input shape of `action` (PascalCase) of `service` (the aws-sdk:<service> name). */
export function inputShape(service: string, action: string): Shape | undefined {
  return serviceModel(service).operations[action]?.input;
}
