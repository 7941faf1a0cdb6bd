/**
 * A FIDO Metadata Service BLOB (MDS3): a JWS whose x5c chain must lead to a trusted root (the FIDO
 * Alliance's, which @simplewebauthn/server bundles, or one the operator configures) and whose
 * payload lists key models by AAGUID with their metadata statements and status reports. Checked
 * here, offline (no CRL or network fetch): chain, validity dates, signature. The statements are then
 * handed to the library's MetadataService, which checks full attestations against each model's
 * attestation root certificates when a key of that model registers.
 */
import { X509Certificate } from 'node:crypto';
import { MetadataService, SettingsService } from '@simplewebauthn/server';
import { compactVerify, decodeProtectedHeader } from 'jose';

export interface BlobModel {
  aaguid: string;
  description: string;
  status: string | null;
  statement: Record<string, unknown>;
}

export class BlobError extends Error {}

/** The FIDO Alliance's MDS root (as the library bundles it), unless the operator names another. */
export const defaultMdsRoots = (): string[] => SettingsService.getRootCertificates({ identifier: 'mds' });

export async function verifyBlob(jwt: string, roots: string[], now: Date): Promise<{ no: number; nextUpdate: string; models: BlobModel[] }> {
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new BlobError('not a JWS (header.payload.signature)');
  }
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || !x5c.length) throw new BlobError('no x5c certificate chain in the BLOB header');
  let chain: X509Certificate[];
  try {
    chain = x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw new BlobError('an x5c certificate does not parse');
  }
  const valid = (c: X509Certificate) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  for (const [i, c] of chain.entries()) {
    if (!valid(c)) throw new BlobError(`certificate ${i} of the chain is not valid now`);
    const issuer = chain[i + 1];
    if (issuer && !(c.checkIssued(issuer) && c.verify(issuer.publicKey))) throw new BlobError(`certificate ${i} is not issued by the next one in the chain`);
  }
  const last = chain[chain.length - 1]!;
  const anchored = roots.some((pem) => {
    const root = new X509Certificate(pem);
    return valid(root) && (last.fingerprint256 === root.fingerprint256 || (last.checkIssued(root) && last.verify(root.publicKey)));
  });
  if (!anchored) throw new BlobError('the certificate chain does not lead to a trusted MDS root');
  let payload: { no?: unknown; nextUpdate?: unknown; entries?: unknown };
  try {
    payload = JSON.parse(Buffer.from((await compactVerify(jwt, chain[0]!.publicKey)).payload).toString('utf8'));
  } catch {
    throw new BlobError('the BLOB signature does not verify');
  }
  if (typeof payload.no !== 'number' || !Array.isArray(payload.entries)) throw new BlobError('the payload has no serial number or entries');
  const models: BlobModel[] = [];
  for (const e of payload.entries as Array<Record<string, any>>) {
    if (typeof e.aaguid !== 'string' || !e.metadataStatement) continue;
    const reports = Array.isArray(e.statusReports) ? [...e.statusReports].sort((a, b) => String(a.effectiveDate ?? '').localeCompare(String(b.effectiveDate ?? ''))) : [];
    models.push({ aaguid: e.aaguid.toLowerCase(), description: String(e.metadataStatement.description ?? e.aaguid).slice(0, 200), status: reports.length ? String(reports[reports.length - 1].status) : null, statement: e.metadataStatement });
  }
  return { no: payload.no, nextUpdate: String(payload.nextUpdate ?? ''), models };
}

let loaded = '';

/** Hands the stored models' statements to the library (once per BLOB in this process), offline. */
export async function loadStatements(models: Array<{ statement: Record<string, unknown>; blobNo: number }>): Promise<void> {
  const version = `${models.length}:${models[0]?.blobNo ?? -1}`;
  if (version === loaded) return;
  await MetadataService.initialize({ mdsServers: [], statements: models.map((m) => m.statement) as never, verificationMode: 'permissive' });
  loaded = version;
}
