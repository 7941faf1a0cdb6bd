/**
 * Key models (FIDO metadata): an operator uploads a Metadata Service BLOB (offline: no network is
 * needed), it is checked (chain to the configured MDS root, signature, a serial number newer than
 * the stored one), its models replace the stored ones, and the library is given their statements so
 * full attestations are checked against each model's roots. Tenants name allowed models in their
 * policy; the console shows keys by model name.
 */
import { pemCertificates } from '../config/load.js';
import { AppError } from '../domain/errors.js';
import { BlobError, defaultMdsRoots, loadStatements, verifyBlob } from '../methods/webauthn/mds.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Principal } from './sessions.js';

const roots = (s: Services) => (s.config.fidoMdsRoots ? pemCertificates(s.config.fidoMdsRoots) : defaultMdsRoots());

export async function importMetadataBlob(s: Services, p: Principal, blob: string, origin: Origin) {
  if (!p.isOperator) throw new AppError('forbidden', undefined, 'Only a platform operator uploads key metadata.');
  let parsed;
  try {
    parsed = await verifyBlob(blob.trim(), roots(s), s.clock());
  } catch (e) {
    if (e instanceof BlobError) throw new AppError('invalid_request', { reason: 'metadata_refused', problem: e.message }, `The metadata BLOB was refused: ${e.message}.`);
    throw e;
  }
  if (!(await s.store.authenticatorModels.replace(parsed.no, parsed.models, s.clock()))) {
    throw new AppError('conflict', { reason: 'metadata_not_newer' }, 'This BLOB is not newer than the one uploaded before.');
  }
  await audit(s, { tenantId: p.tenantId, type: 'webauthn.metadata_imported', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'metadata', id: String(parsed.no) }, origin, data: { no: parsed.no, models: parsed.models.length, nextUpdate: parsed.nextUpdate } });
  await ensureStatements(s);
  return { no: parsed.no, nextUpdate: parsed.nextUpdate, models: parsed.models.length };
}

export async function listModels(s: Services) {
  return (await s.store.authenticatorModels.list()).map((m) => ({ aaguid: m.aaguid, description: m.description, status: m.status, blobNo: m.blobNo }));
}

/** The stored statements handed to the library (once per BLOB in a process); before a registration that checks models. */
export async function ensureStatements(s: Services): Promise<void> {
  await loadStatements(await s.store.authenticatorModels.list());
}
