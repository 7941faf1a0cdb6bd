/** Writes docs/configuration.md and docs/errors.md from their single sources (`npm run docs:config`). */
import { writeFileSync } from 'node:fs';
import { options } from '../src/config/defaults.js';
import { errorCodes } from '../src/domain/errors.js';

export function errorsMarkdown(): string {
  const rows = Object.entries(errorCodes).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`);
  return [
    '# Error codes',
    '',
    'Every error response is JSON: `{ "code", "message", "requestId", "details"? }`. The `code` is stable; the',
    'message is safe to show to anyone. Defined in [`src/domain/errors.ts`](../src/domain/errors.ts); this page is',
    'generated from it (`npm run docs:config`).',
    '',
    '| code | HTTP status | message |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function configurationMarkdown(): string {
  const rows = Object.values(options).map((o) => `| \`${o.env}\` | ${o.default === '' ? '(empty)' : `\`${o.default}\``} | ${o.doc.replace(/\|/g, '\\|')} |`);
  return [
    '# Configuration',
    '',
    'Callwarden reads its configuration from environment variables, all defined in one place:',
    '[`src/config/defaults.ts`](../src/config/defaults.ts). An invalid value stops the server at start with a',
    'message naming the variable. This page is generated from that file (`npm run docs:config`); a test keeps it in step.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
    'Security policy (MFA mode, allowed factors, grace period, session timeouts, lockout, PCI mode) is not',
    'configuration but per-tenant data: see `GET/PUT /v1/tenants/{tenant}/policy` and [policy.md](policy.md).',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('config-doc.ts')) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
  writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsMarkdown());
  console.log('docs/configuration.md and docs/errors.md written');
}
