import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { withPowertools } from '../../../functions/lambda/powertools-stack.ts';
import { logger, metrics } from '../../../functions/runtime/powertools.ts';
import { ServiceStillDraining } from '../../../functions/domain/steady-state.ts';
import { invoked } from '../../support/lambda-context.ts';

afterEach(() => vi.restoreAllMocks());

describe('the Powertools stack every Lambda kind shares', () => {
  it('rethrows the handler error itself, so Step Functions and Lambda see the same error name', async () => {
    const thrown = new ServiceStillDraining('still draining');
    const handler = invoked(withPowertools(async () => { throw thrown; }));
    const error = await handler({}).catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect(error).toMatchObject({ name: 'ServiceStillDraining', message: 'still draining' });
    expect(error).not.toHaveProperty('cause');
  });

  it('an invocation that records no metric flushes without a warning: the routine notice is debug, written nowhere in tests', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const debug = vi.spyOn(logger, 'debug');
    const stderr = vi.spyOn(process.stderr, 'write');
    const stdout = vi.spyOn(process.stdout, 'write');
    await invoked(withPowertools(async () => 'done'))({});
    expect(warn).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith(expect.stringContaining('No application metrics to publish'));
    expect(stderr).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
  });

  it("Metrics' other warnings stay warnings, through the logger", async () => {
    const warn = vi.spyOn(logger, 'warn');
    await invoked(withPowertools(async () => {
      metrics.addDimension('environment', '');
      metrics.addMetric('Probe', MetricUnit.Count, 1);
    }))({});
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("doesn't meet the requirements"));
  });
});
