/**
 * The task sizes Fargate (Linux) accepts, written from AWS's documentation and kept apart from
 * Fledge's own table (functions/domain/fargate-sizes.ts), so a wrong domain table meets a
 * refusal here as it would in AWS. Sources: Amazon ECS Developer Guide, "Amazon ECS task
 * definition parameters for Fargate", Task size (and the same list under `memory` in the
 * Amazon ECS API Reference, TaskDefinition); the 8 and 16 vCPU sizes need Linux platform
 * version 1.4.0, which every simulated task runs on.
 */
const GIB = 1024;

/** memory in MiB from `fromGiB` to `toGiB` in steps of `stepGiB` */
function gib(fromGiB: number, toGiB: number, stepGiB: number): number[] {
  const values: number[] = [];
  for (let v = fromGiB; v <= toGiB; v += stepGiB) values.push(v * GIB);
  return values;
}

/** CPU units -> the memory values (MiB) Fargate allows with it */
export const FARGATE_TASK_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]], // .25 vCPU: 0.5, 1, 2 GB
  [512, gib(1, 4, 1)], // .5 vCPU: 1-4 GB
  [1024, gib(2, 8, 1)], // 1 vCPU: 2-8 GB
  [2048, gib(4, 16, 1)], // 2 vCPU: 4-16 GB in 1 GB increments
  [4096, gib(8, 30, 1)], // 4 vCPU: 8-30 GB in 1 GB increments
  [8192, gib(16, 60, 4)], // 8 vCPU: 16-60 GB in 4 GB increments
  [16384, gib(32, 120, 8)], // 16 vCPU: 32-120 GB in 8 GB increments
]);

/**
 * "The cpu value can be expressed in CPU units or vCPUs in a task definition ... The memory
 * value can be expressed in MiB or GB" and each is converted to an integer when the task
 * definition is registered (Amazon ECS Developer Guide, "Troubleshoot Amazon ECS task
 * definition invalid CPU or memory errors"). Undefined: not a value ECS understands.
 */
export function cpuUnits(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i.exec(value);
  if (!match) return undefined;
  const units = match[2] ? Number(match[1]) * 1024 : Number(match[1]);
  return Number.isInteger(units) ? units : undefined;
}

export function memoryMiB(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(gb)?\s*$/i.exec(value);
  if (!match) return undefined;
  const mib = match[2] ? Number(match[1]) * GIB : Number(match[1]);
  return Number.isInteger(mib) ? mib : undefined;
}

/**
 * Why RegisterTaskDefinition refuses this task size, in ECS's words (undefined: Fargate runs it).
 * An unknown cpu value is "Invalid 'cpu' setting for task." (the troubleshooting page above);
 * a cpu value with a memory value Fargate does not pair with it is "No Fargate configuration
 * exists for given values" (the same page, as Terraform relays ECS's ClientException).
 */
export function fargateSizeRefusal(cpu: string, memory: string): string | undefined {
  const units = cpuUnits(cpu);
  const allowed = units === undefined ? undefined : FARGATE_TASK_SIZES.get(units);
  if (!allowed) return "Invalid 'cpu' setting for task.";
  const mib = memoryMiB(memory);
  if (mib === undefined || !allowed.includes(mib)) {
    return `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`;
  }
  return undefined;
}
