/**
 * The WebAuthn relying party from configuration: the RP ID must be the host of every allowed origin
 * or a parent domain of it, origins must be https (http only on localhost) and bare origins; a bad
 * combination is refused at start, naming the variable. Unconfigured, the public URL decides.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const base = { CALLWARDEN_DATA_DIR: 'memory:', CALLWARDEN_LOG_LEVEL: 'silent' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env });
const refused = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return null;
};

describe('WebAuthn relying party configuration', () => {
  it('defaults: localhost on a loopback address, the public host over https, off on an IP or plain http', () => {
    expect(load({})).toMatchObject({ webauthnRpId: 'localhost', webauthnOrigins: ['http://localhost:3000'] });
    expect(load({ CALLWARDEN_PUBLIC_URL: 'https://mfa.acme.example' })).toMatchObject({ webauthnRpId: 'mfa.acme.example', webauthnOrigins: ['https://mfa.acme.example'] });
    expect(load({ CALLWARDEN_PUBLIC_URL: 'http://10.0.0.5:3000' })).toMatchObject({ webauthnRpId: '', webauthnOrigins: [] });
    expect(load({ CALLWARDEN_PUBLIC_URL: 'http://mfa.acme.example' })).toMatchObject({ webauthnRpId: '' });
  });

  it('a parent domain as RP ID fits the public URL and the origins listed', () => {
    expect(load({ CALLWARDEN_PUBLIC_URL: 'https://mfa.acme.example', CALLWARDEN_WEBAUTHN_RP_ID: 'acme.example' })).toMatchObject({ webauthnRpId: 'acme.example', webauthnOrigins: ['https://mfa.acme.example'] });
    expect(load({ CALLWARDEN_WEBAUTHN_RP_ID: 'acme.example', CALLWARDEN_WEBAUTHN_ORIGINS: 'https://mfa.acme.example, https://console.acme.example' }).webauthnOrigins).toEqual(['https://mfa.acme.example', 'https://console.acme.example']);
  });

  it('refuses at start what does not fit, naming the variable', () => {
    expect(refused({ CALLWARDEN_PUBLIC_URL: 'https://mfa.acme.example', CALLWARDEN_WEBAUTHN_RP_ID: 'other.example' })).toMatch(/CALLWARDEN_WEBAUTHN_RP_ID.*does not fit/);
    expect(refused({ CALLWARDEN_WEBAUTHN_RP_ID: 'acme.example', CALLWARDEN_WEBAUTHN_ORIGINS: 'https://evil.example' })).toMatch(/CALLWARDEN_WEBAUTHN_ORIGINS.*does not fit/);
    expect(refused({ CALLWARDEN_WEBAUTHN_RP_ID: 'acme.example', CALLWARDEN_WEBAUTHN_ORIGINS: 'http://mfa.acme.example' })).toMatch(/must be https/);
    expect(refused({ CALLWARDEN_WEBAUTHN_ORIGINS: 'https://mfa.acme.example/login', CALLWARDEN_WEBAUTHN_RP_ID: 'acme.example' })).toMatch(/not an origin/);
    expect(refused({ CALLWARDEN_WEBAUTHN_RP_ID: 'https://acme.example' })).toMatch(/CALLWARDEN_WEBAUTHN_RP_ID.*host name/);
    // an RP ID that is only a suffix of the text, not a parent domain
    expect(refused({ CALLWARDEN_WEBAUTHN_RP_ID: 'me.example', CALLWARDEN_WEBAUTHN_ORIGINS: 'https://acme.example' })).toMatch(/does not fit/);
  });
});
