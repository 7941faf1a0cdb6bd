import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown, errorsMarkdown } from '../../scripts/config-doc.js';

const read = (f: string) => readFileSync(new URL(`../../docs/${f}`, import.meta.url), 'utf8');

describe('generated documentation is in step with its source', () => {
  it('docs/configuration.md matches src/config/defaults.ts (run npm run docs:config)', () => {
    expect(read('configuration.md')).toBe(configurationMarkdown());
  });
  it('docs/errors.md matches src/domain/errors.ts (run npm run docs:config)', () => {
    expect(read('errors.md')).toBe(errorsMarkdown());
  });
});
