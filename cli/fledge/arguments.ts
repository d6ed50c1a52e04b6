/**
 * The argument parsers of the `fledge` commands (commander calls them): each turns one option
 * value into what the API takes, or refuses it with a message that names the option.
 * Pure; the API still validates everything (these only catch what cannot be sent at all).
 */
import { InvalidArgumentError } from 'commander';

/** `--env K=V` (repeatable): K is everything before the first `=`, V may hold more `=`. */
export function keyValue(option: string) {
  return (value: string, previous: Record<string, string> | undefined): Record<string, string> => {
    const at = value.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`${option} expects KEY=VALUE, got "${value}"`);
    const key = value.slice(0, at);
    if (previous && Object.hasOwn(previous, key)) throw new InvalidArgumentError(`${option} ${key} is given twice`);
    return { ...previous, [key]: value.slice(at + 1) };
  };
}

/** A whole number in [min, max] (task counts, ports, sizes, limits). */
export function integerIn(what: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    // digits only: Number() also reads "0x2", "1e1" and "0b11"
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** An environment name (functions/domain/environment-spec.ts NAME_PATTERN; not imported: the CLI bundle leaves zod out). */
const ENVIRONMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * `--keep a,b --keep 42` (repeatable; separated by commas or white space, as `gh pr list --jq`
 * prints numbers one a line): the entries, empty ones dropped. An entry that is neither a pull
 * request number nor an environment name would keep nothing, so prune would delete what the
 * user meant to keep (`--keep "PR-12"`): it is a usage error instead.
 */
export function listOf(value: string, previous: string[] | undefined): string[] {
  const entries = value.split(/[\s,]+/).filter(Boolean);
  const bad = entries.find((entry) => !/^#?\d+$/.test(entry) && !ENVIRONMENT_NAME.test(entry));
  if (bad !== undefined) throw new InvalidArgumentError(`--keep takes pull request numbers and environment names, got "${bad}"`);
  return [...(previous ?? []), ...entries];
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `10m`, `2h`, `1d` in ms, or undefined when it is not such a duration. */
export function durationMs(value: string): number | undefined {
  const match = DURATION.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

/** A positive duration option (`--timeout 30m`), in ms. */
export function duration(option: string) {
  return (value: string): number => {
    const ms = durationMs(value);
    if (!ms) throw new InvalidArgumentError(`${option} must be a duration like 90s, 10m, 2h or 1d, got "${value}"`);
    return ms;
  };
}

/** `--since 10m` (that long ago) or an ISO 8601 time: the ISO time the logs route takes. */
export function since(now: () => number = Date.now) {
  return (value: string): string => {
    const ago = durationMs(value);
    if (ago !== undefined) return new Date(now() - ago).toISOString();
    const at = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at)) {
      throw new InvalidArgumentError(`--since must be a duration (10m, 2h) or an ISO time (2026-01-31T12:00:00Z), got "${value}"`);
    }
    return new Date(at).toISOString();
  };
}
