/**
 * The console's API types (web/src/api/schema.d.ts) are generated from the server's OpenAPI document
 * (`npm run api:types`, scripts/api-types.ts). This regenerates them in memory and fails when the
 * committed file differs, so a response shape cannot change without the console's types following.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypes, openapiDocument, SCHEMA_FILE } from '../../scripts/api-types.js';

/** The first lines where two texts differ, for a readable failure. */
function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((line, n) => line !== y[n]);
  const at = i === -1 ? Math.min(x.length, y.length) : i;
  return `line ${at + 1}:\n  committed: ${x.slice(at, at + 3).join('\n             ')}\n  generated: ${y.slice(at, at + 3).join('\n             ')}`;
}

const doc = await openapiDocument();

describe('generated console API types are in step with /openapi.json', () => {
  it('web/src/api/schema.d.ts is what npm run api:types writes now', async () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    const generated = await apiTypes(doc);
    expect(committed === generated, `web/src/api/schema.d.ts is out of date: run npm run api:types\n${firstDifference(committed, generated)}`).toBe(true);
  });

  it('a changed response shape changes the generated types (the comparison can fail)', async () => {
    const changed = structuredClone(doc) as any;
    const view = changed.paths['/v1/tenants/{tenant}/verifications/{id}'].get.responses['200'].content['application/json'].schema;
    expect(view.properties.attemptsLeft).toBeDefined();
    delete view.properties.attemptsLeft;
    view.required = view.required.filter((k: string) => k !== 'attemptsLeft');
    const before = await apiTypes(doc);
    const after = await apiTypes(changed);
    expect(after).not.toBe(before);
    expect(before).toContain('attemptsLeft: number;');
    expect(after.split('attemptsLeft: number;').length).toBe(before.split('attemptsLeft: number;').length - 1);
  });
});
