/**
 * Interoperability with an independent TOTP implementation: oathtool (Debian package "oathtool").
 * In CI (CI=true) oathtool must be installed; elsewhere the suite is skipped without it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { base32, matchTotpStep, newTotpSecret, totpAt } from '../../src/methods/totp/core.js';

const probe = spawnSync('oathtool', ['--version'], { encoding: 'utf8' });
const HAVE_OATHTOOL = probe.error === undefined && probe.status === 0;
const IN_CI = process.env.CI === 'true';

function oathtool(args: string[]): string {
  const r = spawnSync('oathtool', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`oathtool ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
}

describe.runIf(IN_CI && !HAVE_OATHTOOL)('oathtool in CI', () => {
  it('is installed (apt-get install oathtool)', () => {
    expect.fail('oathtool is required in CI but is not on PATH');
  });
});

describe.runIf(HAVE_OATHTOOL)('oathtool interop', () => {
  it('accepts the code oathtool gives now for a fresh secret', () => {
    const secret = newTotpSecret();
    const before = new Date();
    const code = oathtool(['--totp', '-b', base32(secret)]);
    expect(code).toMatch(/^\d{6}$/);
    // the step may roll over between oathtool and us; ±1 step covers it
    expect(matchTotpStep(secret, code, before)).not.toBeNull();
    expect(matchTotpStep(secret, code, new Date())).not.toBeNull();
  });

  it('gives the same code as totpAt at fixed times', () => {
    const secret = newTotpSecret();
    const b32 = base32(secret);
    for (const t of [59, 1_111_111_109, 1_234_567_890, 1_750_000_000, 2_000_000_000, Math.floor(Date.now() / 1000)]) {
      const theirs = oathtool(['--totp', '-b', b32, '-N', `@${t}`]);
      expect(theirs, `t=${t}`).toBe(totpAt(secret, new Date(t * 1000)));
    }
  });

  it('agrees on a base32 secret with no padding (160 bits = 32 characters)', () => {
    const b32 = base32(newTotpSecret());
    expect(b32).toMatch(/^[A-Z2-7]{32}$/);
  });
});
