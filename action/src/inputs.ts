/** The Action's inputs (action.yml), read through a getter so tests can pass them as a map. */

export interface ActionInputs {
  /** the environment's name; default `pr-<number>` */
  name: string | undefined;
  image: string | undefined;
  port: number | undefined;
  /** `K=V` lines for `--env`, `--secret` and `--label` */
  env: string[];
  secrets: string[];
  labels: string[];
  ttl: string | undefined;
  forkLabel: string;
  waitTimeoutMs: number;
}

/** The labels the Action sets itself from the event: a workflow cannot set them to something else. */
export const EVENT_LABELS = ['repository', 'branch', 'pullRequest', 'commit'] as const;

export type InputGetter = (name: string) => string;

export function readInputs(get: InputGetter): ActionInputs {
  const labels = pairs(get('labels'), 'labels');
  for (const line of labels) {
    const key = line.slice(0, line.indexOf('='));
    if ((EVENT_LABELS as readonly string[]).includes(key)) throw new Error(`input labels: "${key}" is set by the Action from the pull request`);
  }
  const port = optional(get('port'));
  const minutes = optional(get('wait-timeout-minutes')) ?? '20';
  if (!/^[1-9][0-9]{0,3}$/.test(minutes)) throw new Error(`input wait-timeout-minutes: "${minutes}" is not a whole number of minutes (1-9999)`);
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) throw new Error(`input port: "${port}" is not a port number`);
  return {
    name: optional(get('name')),
    image: optional(get('image')),
    port: port === undefined ? undefined : Number(port),
    env: pairs(get('env'), 'env'),
    secrets: pairs(get('secrets'), 'secrets'),
    labels,
    ttl: optional(get('ttl')),
    forkLabel: optional(get('fork-label')) ?? 'preview',
    waitTimeoutMs: Number(minutes) * 60_000,
  };
}

function optional(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** One `K=V` a line; blank lines and `#` comments skipped. */
function pairs(value: string, input: string): string[] {
  const lines = value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) if (line.indexOf('=') < 1) throw new Error(`input ${input}: "${line}" is not KEY=VALUE`);
  return lines;
}
