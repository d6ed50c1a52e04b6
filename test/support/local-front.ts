/**
 * Local mode's HTTP front (infra/local/http-front.ts) for its unit tests: on a free loopback
 * port, over a fresh simulator without rate limits, with a stand-in for the route handlers
 * (no Lambda modules loaded) and for the table's environment items.
 */
import { startHttpFront, type ApiHandler, type HttpFront, type HttpFrontOptions } from '../../infra/local/http-front.ts';
import { createSimulator, type Simulator } from '../../infra/local/simulator/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Started; `stop` closes the front and stops the simulator (return it from `beforeAll`). */
export async function startTestFront(options: { handle: ApiHandler; readEnvironment: HttpFrontOptions['readEnvironment'] }): Promise<{
  front: HttpFront;
  sim: Simulator;
  stop(): Promise<void>;
}> {
  const sim = createSimulator({ rateLimits: false });
  const front = await startHttpFront({ port: 0, simulator: sim, logger: silent, loadHandler: async () => options.handle, readEnvironment: options.readEnvironment });
  return {
    front,
    sim,
    async stop() {
      await front.close();
      sim.stop();
    },
  };
}
