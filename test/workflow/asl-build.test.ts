import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderStateMachines, STATEMACHINES_DIR } from '../../statemachines/source/build.ts';

describe('statemachines/*.asl.json are written by statemachines/source/build.ts', () => {
  it.each(Object.entries(renderStateMachines()))('%s is what the builder writes', (file, text) => {
    const committed = readFileSync(join(STATEMACHINES_DIR, file), 'utf8');
    expect(committed === text, `statemachines/${file} differs from statemachines/source: run \`npm run build:asl\``).toBe(true);
  });
});
