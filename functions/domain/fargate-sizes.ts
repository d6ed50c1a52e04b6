/**
 * Valid Fargate (Linux) task sizes: cpu units -> allowed memory in MiB.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
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
