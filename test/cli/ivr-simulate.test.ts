/**
 * `callwarden ivr simulate` driven in-process through `main()` with standard input fed by the test:
 * PIN, then an SMS code read from the outbox (as a customer would read their phone) completes the
 * verification with exit 0; the code is never printed; the agent sees the result on the interaction.
 * A caller who gives up (end of input) exits 1.
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';

describe('callwarden ivr simulate', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  function simulate(...args: string[]) {
    const stdin = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    const done = main(['node', 'callwarden', 'ivr', 'simulate', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, stdin, services: t.s });
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 500 && !out.some((l) => re.test(l)); i++) await sleep(10);
      expect(out.some((l) => re.test(l)), `${re} in:\n${out.join('\n')}`).toBe(true);
    };
    return { stdin, out, err, done, waitFor };
  }

  it('PIN + SMS code read from the outbox completes the verification (exit 0)', async () => {
    const run = simulate('--tenant', 'acme', '--customer', 'CRM-7', '--interaction', 'sim-call-1');
    await run.waitFor(/^IVR: Please enter your PIN/);
    run.stdin.write('480613#\n');
    await run.waitFor(/press 1\./);
    run.stdin.write('1\n');
    await run.waitFor(/a code was sent to \+1 .*0134; in dev mode read it with `callwarden outbox list`/);
    const code = await lastCodeTo(t, '+14155550134');
    run.stdin.write(`${code}\n`);
    expect(await run.done, run.err.join('\n')).toBe(0);
    const printed = run.out.join('\n');
    expect(printed).toMatch(/IVR: Thank you\. Your identity is verified\./);
    expect(printed).toContain('result: verified (methods: pin, otp_sms)');
    expect(printed).not.toContain(code);
    const seen = await api(t.app).get('/v1/tenants/acme/interactions/sim-call-1/verification', { token: f.agent });
    expect(json(seen)).toMatchObject({ channel: 'ivr', state: 'verified' });
  });

  it('a caller found by number who gives up exits 1; bad arguments exit 2', async () => {
    const run = simulate('--tenant', 'acme', '--ani', '+1 415 555 0134');
    run.stdin.end('123456#\n');
    expect(await run.done).toBe(1);
    expect(run.out.join('\n')).toMatch(/That PIN is not correct\.[\s\S]*\(caller hung up\)/);
    expect(run.err.join('\n')).toContain('not verified (hung up)');
    expect(await simulate('--tenant', 'acme').done).toBe(2);
    expect(await simulate('--tenant', 'nobody', '--customer', 'CRM-7').done).toBe(3);
  });
});
