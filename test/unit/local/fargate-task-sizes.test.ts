/**
 * The simulator checks task sizes against its own table from AWS's documentation
 * (infra/local/simulator/fargate-task-sizes.ts), so Fledge's table (functions/domain/fargate-sizes.ts)
 * is checked against something it did not write: the domain must accept no size Fargate refuses,
 * and may leave out only the sizes it documents leaving out.
 */
import { describe, expect, it } from 'vitest';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { FARGATE_MEMORY_BY_CPU, isValidFargatePair } from '../../../functions/domain/fargate-sizes.ts';
import { FARGATE_TASK_SIZES, fargateSizeRefusal } from '../../../infra/local/simulator/fargate-task-sizes.ts';
import { createSimulator } from '../../../infra/local/simulator/index.ts';

const pairs = (table: Iterable<[number, readonly number[]]>) => [...table].flatMap(([cpu, memories]) => memories.map((memory) => `${cpu}/${memory}`));
const domainPairs = pairs(Object.entries(FARGATE_MEMORY_BY_CPU).map(([cpu, memories]) => [Number(cpu), memories] as [number, readonly number[]]));
const awsPairs = pairs(FARGATE_TASK_SIZES);

/** What Fledge leaves out on purpose: the 8 and 16 vCPU sizes (Linux platform 1.4.0 only; a preview needs no more than 4 vCPU). */
const LEFT_OUT_CPU = [8192, 16384];

describe('Fargate task sizes: the domain table against the simulator\'s', () => {
  it('the domain accepts exactly what Fargate accepts up to 4 vCPU, and nothing Fargate refuses', () => {
    expect(domainPairs.filter((pair) => !awsPairs.includes(pair))).toEqual([]);
    const leftOut = awsPairs.filter((pair) => !domainPairs.includes(pair));
    expect(leftOut.length).toBeGreaterThan(0);
    expect(leftOut.every((pair) => LEFT_OUT_CPU.includes(Number(pair.split('/')[0])))).toBe(true);
    expect(leftOut).toEqual(pairs(LEFT_OUT_CPU.map((cpu) => [cpu, FARGATE_TASK_SIZES.get(cpu)!])));
    // and the domain's own check agrees with its table on every size either table knows
    for (const pair of [...awsPairs, '256/4096', '512/512', '1024/1536', '3072/8192']) {
      const [cpu, memory] = pair.split('/').map(Number) as [number, number];
      expect({ pair, accepted: isValidFargatePair(cpu, memory) }).toEqual({ pair, accepted: domainPairs.includes(pair) });
    }
  });

  it('the simulator\'s table is the documented one (spot checks from the Task size list)', () => {
    expect(FARGATE_TASK_SIZES.get(256)).toEqual([512, 1024, 2048]);
    expect(FARGATE_TASK_SIZES.get(512)).toEqual([1024, 2048, 3072, 4096]);
    expect(FARGATE_TASK_SIZES.get(2048)?.length).toBe(13); // 4-16 GB in 1 GB steps
    expect(FARGATE_TASK_SIZES.get(4096)?.at(-1)).toBe(30720);
    expect(FARGATE_TASK_SIZES.get(8192)).toEqual([16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60].map((g) => g * 1024));
    expect(FARGATE_TASK_SIZES.get(16384)?.[0]).toBe(32768);
    expect(FARGATE_TASK_SIZES.get(16384)?.at(-1)).toBe(122880);
    // vCPU and GB spellings are converted like ECS converts them
    expect(fargateSizeRefusal('1 vCPU', '2 GB')).toBeUndefined();
    expect(fargateSizeRefusal('.25 vcpu', '512')).toBe("Invalid 'cpu' setting for task.");
    expect(fargateSizeRefusal('0.25 vCPU', '0.5 GB')).toBeUndefined();
  });

  it('RegisterTaskDefinition refuses a size Fargate does not run, with ECS\'s ClientException', async () => {
    const sim = createSimulator({ rateLimits: false });
    const ecs = sim.client('ecs');
    const register = (cpu: string, memory: string) =>
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'sizes', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu, memory,
          containerDefinitions: [{ name: 'app', image: 'nginx:1.27' }],
        }),
      );
    try {
      await expect(register('256', '4096')).rejects.toMatchObject({
        name: 'ClientException', $fault: 'client', sfnErrorName: 'Ecs.ClientException',
        message: 'No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.',
      });
      await expect(register('300', '512')).rejects.toMatchObject({ name: 'ClientException', message: "Invalid 'cpu' setting for task." });
      await expect(register('8192', '20480')).resolves.toMatchObject({ taskDefinition: { cpu: '8192', memory: '20480' } });
      await expect(register('8192', '18432')).rejects.toMatchObject({ name: 'ClientException' }); // 8 vCPU: 4 GB steps only
    } finally {
      sim.stop();
    }
  });
});
