/**
 * How `--wait` shows progress: on a terminal one line that updates in place (log-update),
 * its elapsed time ticking every second; when stderr is not a terminal, or in CI (`CI=true`),
 * plain lines, one per change, so a CI log reads as a history.
 */
import { createLogUpdate } from 'log-update';
import { progressLine, type Colors, type Progress } from './format.ts';

export interface ProgressReporter {
  update(progress: Progress): void;
  /** stops the live line, leaving its last state on screen */
  done(): void;
}

export function liveOutput(stream: NodeJS.WriteStream, env: Record<string, string | undefined>): boolean {
  return Boolean(stream.isTTY) && !isCi(env);
}

export function isCi(env: Record<string, string | undefined>): boolean {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

export function plainReporter(write: (line: string) => void, colors: Colors): ProgressReporter {
  let lastKey = '';
  return {
    update(progress) {
      // the elapsed time is not a change
      const key = progressLine({ ...progress, elapsedMs: 0 }, colors);
      if (key === lastKey) return;
      lastKey = key;
      write(progressLine(progress, colors));
    },
    done() {},
  };
}

export function liveReporter(stream: NodeJS.WriteStream, colors: Colors, now = Date.now): ProgressReporter {
  const render = createLogUpdate(stream);
  let last: { progress: Progress; at: number } | undefined;
  const draw = () => {
    if (last) render(progressLine({ ...last.progress, elapsedMs: last.progress.elapsedMs + now() - last.at }, colors));
  };
  const ticker = setInterval(draw, 1000);
  ticker.unref();
  return {
    update(progress) {
      last = { progress, at: now() };
      draw();
    },
    done() {
      clearInterval(ticker);
      render.done();
    },
  };
}
