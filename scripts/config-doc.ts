/** Writes docs/configuration.md and docs/errors.md from their single sources (`npm run docs:config`). */
import { writeFileSync } from 'node:fs';
import { options } from '../src/config/defaults.js';
import { errorCodes, errorReasons } from '../src/domain/errors.js';

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
    ...reasonsMarkdown(),
    ...sameConditionMarkdown(),
  ].join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function reasonsMarkdown(): string[] {
  const rows = Object.entries(errorReasons).map(([reason, r]) =>
    `| \`${reason}\` | ${r.codes.length ? r.codes.map((c) => `\`${c}\``).join(', ') : '(none)'} | ${r.where.join(', ')} | ${cell(r.doc)} |`);
  return [
    '## Reasons',
    '',
    'Why something was refused, in one vocabulary for error responses (`details.reason`), audit events',
    '(`data.reason`) and check results. Registered in `errorReasons` in [`src/domain/errors.ts`](../src/domain/errors.ts);',
    'a test (`test/docs/error-reasons.test.ts`) fails when `src/` uses a reason that is not registered, or when a',
    'registered one is used nowhere. When the flow engine audits a refused attempt whose error carries no reason,',
    'the event\'s `data.reason` is the error code itself.',
    '',
    '"Seen in": `details` (error responses), `audit` (audit events), `result` (a check\'s answer, such as an',
    'assertion check or an audit verification), `log` (server logs only).',
    '',
    '| reason | with codes | seen in | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}

/** Read from src/flows/signin.ts (its `failure` hook) and src/flows/verification.ts (`verificationError`, `failure`). */
function sameConditionMarkdown(): string[] {
  return [
    '## The same condition for staff and for callers',
    '',
    'Staff sign-in and caller verification run on the same flow engine, but answer in different words (the',
    'audit events keep the engine\'s reason in both). As the code stands:',
    '',
    '| condition | staff sign-in | caller verification |',
    '| --- | --- | --- |',
    '| wrong answer | password: `invalid_credentials` (401), `attemptsLeft`, no reason; second factor: `invalid_factor` (401), `attemptsLeft`, reason `wrong_code`/`malformed`/`not_enrolled` | `invalid_code` (400), `attemptsLeft`, `state`, reason `wrong_code` (also for `malformed`), `wrong_pin`, `wrong_answer`, `code_expired`, `code_exhausted`, `no_code_sent`, `no_pin`, `no_totp`; the last attempt gives `state: failed` |',
    '| code already used (replay, race lost) | `invalid_credentials` (password) or `invalid_factor`, reason `replayed`; not counted | `invalid_code`, reason `code_used` (audited as `replayed`); not counted |',
    '| attempt budget spent | `flow_failed` (429), `state: failed`, reason `flow_budget_spent` | `too_many_attempts` (429), `state: failed`, reason `max_attempts` (audited as `flow_budget_spent`) |',
    '| method locked for good | `factor_locked` (423), reason `disabled` | the same: `factor_locked` (423), reason `disabled` |',
    '| method locked for a while (PCI) | `too_many_attempts` (429), reason `locked`, `retryAfterSeconds` | the same |',
    '| throttled (back-off, check in flight) | `too_many_attempts` (429), reason `throttled`, `retryAfterSeconds` | the same |',
    '| flow expired | `flow_expired` (410), reason `flow_expired` | the same code and reason, message "This verification expired" |',
    '| flow not at this step | `flow_state` (409), reason `flow_state` | the same, message "This verification is already over"; unknown flow: `not_found` instead of `flow_invalid` |',
    '',
    'So `too_many_attempts` means "wait" for staff but may mean "failed for good" for callers (tell them apart by',
    '`reason`/`state`), and a used code is `replayed` for staff but `code_used` for callers.',
    '',
  ];
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
