/**
 * Throw-away certificates for tests, made with the openssl command line (node:crypto reads X.509 but
 * cannot issue it): a root CA and leaves it signs, ECDSA P-256, valid for 30 days.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  pem: string;
  der: Buffer;
  key: KeyObject;
  keyPath: string;
  certPath: string;
}

const dir = mkdtempSync(join(tmpdir(), 'cw-pki-'));
let n = 0;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const issued = (certPath: string, keyPath: string): Issued => {
  const pem = readFileSync(certPath, 'utf8');
  return { pem, der: Buffer.from(new X509Certificate(pem).raw), key: createPrivateKey(readFileSync(keyPath)), keyPath, certPath };
};

export function rootCa(subject: string): Issued {
  const base = join(dir, `ca${++n}`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.pem`, '-days', '30', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return issued(`${base}.pem`, `${base}.key`);
}

/** A leaf (CA:FALSE) issued by `ca`. */
export function leaf(ca: Issued, subject: string): Issued {
  const base = join(dir, `leaf${++n}`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject]);
  writeFileSync(`${base}.ext`, 'basicConstraints=critical,CA:FALSE\n');
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', String(1000 + n), '-out', `${base}.pem`, '-days', '30', '-extfile', `${base}.ext`]);
  return issued(`${base}.pem`, `${base}.key`);
}

/** A file holding these certificates (PEM), e.g. for CALLWARDEN_FIDO_MDS_ROOTS. */
export function pemFile(...certs: Issued[]): string {
  const path = join(dir, `bundle${++n}.pem`);
  writeFileSync(path, certs.map((c) => c.pem).join('\n'));
  return path;
}
