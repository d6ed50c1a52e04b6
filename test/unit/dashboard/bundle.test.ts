/**
 * The committed dashboard (dashboard/src/api-types.ts and dashboard/dist/) is what
 * `npm run build:dashboard` writes now: a change to the OpenAPI document or to the page's source
 * without a rebuild fails here.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dashboardOutputs } from '../../../dashboard/build.ts';

describe('the committed dashboard', () => {
  it('is what npm run build:dashboard writes (types from the OpenAPI document, bundle from the source)', async () => {
    const outputs = await dashboardOutputs();
    expect(Object.keys(outputs).sort()).toEqual(['dist/app.css', 'dist/app.js', 'dist/index.html', 'src/api-types.ts']);
    for (const [path, text] of Object.entries(outputs)) {
      const committed = await readFile(new URL(`../../../dashboard/${path}`, import.meta.url), 'utf8');
      expect(committed === text, `dashboard/${path} is stale: run npm run build:dashboard`).toBe(true);
    }
  });

  it('loads nothing from another origin (no CDN, no web fonts)', async () => {
    const outputs = await dashboardOutputs();
    expect(outputs['dist/index.html']).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(outputs['dist/app.css']).not.toMatch(/@import|@font-face|url\(/);
    expect(outputs['dist/app.js']).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });
});
