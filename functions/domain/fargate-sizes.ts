/**
 * Valid Fargate (Linux) task sizes: cpu units -> allowed memory in MiB.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
import { MIN_APP_MEMORY_MIB, SIDECAR_MEMORY_RESERVATION_MIB, taskMemoryNeeded } from './sidecars.ts';

function range(fromMiB: number, toMiB: number, stepMiB: number): number[] {
  const values: number[] = [];
  for (let v = fromMiB; v <= toMiB; v += stepMiB) values.push(v);
  return values;
}

export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

export const FARGATE_CPU_VALUES = Object.keys(FARGATE_MEMORY_BY_CPU).map(Number);

export function isValidFargatePair(cpu: number, memory: number): boolean {
  return FARGATE_MEMORY_BY_CPU[cpu]?.includes(memory) ?? false;
}

/**
 * The Fargate sizes whose memory holds `neededMiB`, per cpu, in words:
 * `cpu 256 with memory 1024 or 2048; cpu 512 with memory 1024-4096; ...`.
 */
export function sizesFitting(neededMiB: number): string {
  return FARGATE_CPU_VALUES.flatMap((cpu) => {
    const memories = FARGATE_MEMORY_BY_CPU[cpu]!.filter((memory) => memory >= neededMiB);
    if (memories.length === 0) return [];
    const [first, last] = [memories[0]!, memories[memories.length - 1]!];
    const which = memories.length === 1 ? `${first}` : memories.length === 2 ? `${first} or ${last}` : `${first}-${last}`;
    return [`cpu ${cpu} with memory ${which}`];
  }).join('; ');
}

/**
 * Why a valid Fargate size cannot hold the app and `sidecars` sidecars, or undefined. The spec's
 * cpu/memory is the whole task's; each sidecar reserves SIDECAR_MEMORY_RESERVATION_MIB of it and
 * the app keeps at least MIN_APP_MEMORY_MIB (functions/domain/sidecars.ts).
 */
export function taskSizeProblem(cpu: number, memory: number, sidecars: number): string | undefined {
  const needed = taskMemoryNeeded(sidecars);
  if (sidecars === 0 || memory >= needed) return undefined;
  return `memory ${memory} (with cpu ${cpu}) cannot hold the app and ${sidecars} sidecar${sidecars === 1 ? '' : 's'}: they need at least ${needed} MiB `
    + `(${MIN_APP_MEMORY_MIB} MiB for the app, ${SIDECAR_MEMORY_RESERVATION_MIB} MiB reserved per sidecar); Fargate sizes that fit: ${sizesFitting(needed)}`;
}
