/**
 * Checkpoints: the chain head of a tenant signed with Ed25519 at each seal. The sealer stores the
 * signature on the head row, appends the checkpoint as one JSON line to the file the operator names
 * (CALLWARDEN_AUDIT_CHECKPOINTS) and logs it, so a copy of every head lives outside the database;
 * `callwarden audit verify --checkpoints FILE` holds the chain to the newest one of each tenant.
 */
import { sign, verify } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { canonicalJson } from './canonical.js';
import type { AuditKeys } from './keys.js';

const LABEL = 'callwarden-audit-checkpoint-v1\n';

/** What a checkpoint signs. */
export interface CheckpointPayload {
  v: 1;
  tenantId: string;
  seq: number;
  hash: string;
  /** When the head was sealed, to the microsecond (ISO). */
  sealedAt: string;
  /** Events up to this id predate MACs (audit_integrity.legacy_max_id). */
  legacyMaxId: number;
  /** Id of the signing key (src/audit/keys.ts). */
  keyId: string;
}

export interface Checkpoint extends CheckpointPayload {
  /** Ed25519 signature, base64url. */
  sig: string;
}

const message = (p: CheckpointPayload) =>
  Buffer.from(LABEL + canonicalJson({ v: p.v, tenantId: p.tenantId, seq: p.seq, hash: p.hash, sealedAt: p.sealedAt, legacyMaxId: p.legacyMaxId, keyId: p.keyId }), 'utf8');

export function signCheckpoint(keys: AuditKeys, p: Omit<CheckpointPayload, 'v' | 'keyId'>): Checkpoint {
  const payload: CheckpointPayload = { v: 1, ...p, keyId: keys.signing.id };
  return { ...payload, sig: sign(null, message(payload), keys.signing.key).toString('base64url') };
}

export type SignatureVerdict = { ok: true } | { ok: false; detail: string };

export function checkSignature(keys: AuditKeys, cp: CheckpointPayload, sig: string | null): SignatureVerdict {
  if (!sig) return { ok: false, detail: 'it is not signed' };
  const key = keys.verifyKeys.get(cp.keyId);
  if (!key) return { ok: false, detail: `it is signed with key id ${JSON.stringify(String(cp.keyId).slice(0, 40))}, which is not configured (CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS)` };
  try {
    if (verify(null, message(cp), key.key, Buffer.from(sig, 'base64url'))) return { ok: true };
  } catch {
    // a malformed signature does not verify
  }
  return { ok: false, detail: 'its signature does not verify' };
}

/** A checkpoint file: where checkpoints go when the configured path is a directory. */
export function checkpointFile(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, 'audit-checkpoints.jsonl');
  } catch {
    // a file that does not exist yet
  }
  return path;
}

export async function appendCheckpoints(path: string, cps: Checkpoint[]): Promise<void> {
  if (cps.length === 0) return;
  await appendFile(checkpointFile(path), cps.map((c) => JSON.stringify(c) + '\n').join(''), { flag: 'a', mode: 0o640 });
}

export interface CheckpointProblem {
  line: number;
  tenantId: string | null;
  detail: string;
}

export interface CheckpointSet {
  file: string;
  /** The newest (highest seq) checkpoint of each tenant whose signature verifies. */
  newest: Map<string, Checkpoint & { line: number }>;
  /** Lines that are not checkpoints or whose signature does not verify. */
  problems: CheckpointProblem[];
  lines: number;
}

const isCheckpoint = (x: unknown): x is Checkpoint => {
  const c = x as Record<string, unknown>;
  return typeof c === 'object' && c !== null && c.v === 1 && typeof c.tenantId === 'string' && Number.isSafeInteger(c.seq) && (c.seq as number) > 0
    && typeof c.hash === 'string' && typeof c.sealedAt === 'string' && Number.isSafeInteger(c.legacyMaxId) && typeof c.keyId === 'string' && typeof c.sig === 'string';
};

/** Reads a checkpoint file line by line (it may be large); throws when it cannot be read. */
export async function readCheckpoints(keys: AuditKeys, path: string): Promise<CheckpointSet> {
  const file = checkpointFile(path);
  const set: CheckpointSet = { file, newest: new Map(), problems: [], lines: 0 };
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  await opened;
  let n = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    n += 1;
    if (!text.trim()) continue;
    set.lines += 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      set.problems.push({ line: n, tenantId: null, detail: 'not a JSON line' });
      continue;
    }
    if (!isCheckpoint(parsed)) {
      set.problems.push({ line: n, tenantId: null, detail: 'not a checkpoint' });
      continue;
    }
    const verdict = checkSignature(keys, parsed, parsed.sig);
    if (!verdict.ok) {
      set.problems.push({ line: n, tenantId: parsed.tenantId, detail: `checkpoint of seq ${parsed.seq}: ${verdict.detail}` });
      continue;
    }
    const prior = set.newest.get(parsed.tenantId);
    if (!prior || parsed.seq > prior.seq) set.newest.set(parsed.tenantId, { ...parsed, line: n });
  }
  return set;
}
