/** The audit log API: filtered pages (newest first), the JSON-lines export and the chain verification. */
import { api, ApiError, seg } from '../../../lib/api';

export interface AuditEvent {
  id: number;
  tenantId: string;
  occurredAt: string;
  type: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  channel: string | null;
  requestId: string | null;
  data: unknown;
  chainSeq: number | null;
  prevHash: string | null;
  hash: string | null;
}

/** What the screen filters on; dates are the browser's calendar days (YYYY-MM-DD), `to` inclusive. */
export interface AuditFilters {
  type: string | null;
  outcome: string | null;
  actorId: string | null;
  fromDay: string;
  toDay: string;
}

export const noFilters: AuditFilters = { type: null, outcome: null, actorId: null, fromDay: '', toDay: '' };

/** Local midnight at the start of a YYYY-MM-DD day, or undefined. */
function dayStart(day: string, plusDays = 0): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
}

/** Filters as the API's query parameters (`to` is exclusive: the day after the chosen last day). */
export function filterParams(f: AuditFilters): URLSearchParams {
  const q = new URLSearchParams();
  if (f.type) q.set('type', f.type);
  if (f.outcome) q.set('outcome', f.outcome);
  if (f.actorId) q.set('actorId', f.actorId);
  const from = dayStart(f.fromDay);
  const to = dayStart(f.toDay, 1);
  if (from) q.set('from', from.toISOString());
  if (to) q.set('to', to.toISOString());
  return q;
}

export const dateRangeError = (f: AuditFilters) =>
  f.fromDay && f.toDay && f.fromDay > f.toDay ? 'The last day is before the first day.' : undefined;

export interface AuditPage {
  events: AuditEvent[];
  nextBefore: number | null;
}

export const PAGE_SIZE = 50;

export function fetchEvents(tenant: string, f: AuditFilters, before: number | null, signal?: AbortSignal) {
  const q = filterParams(f);
  q.set('limit', String(PAGE_SIZE));
  if (before !== null) q.set('before', String(before));
  return api.get<AuditPage>(`/v1/tenants/${seg(tenant)}/audit?${q}`, { signal });
}

export interface ChainProblem {
  eventId: number | null;
  chainSeq: number | null;
  kind: 'edited' | 'deleted' | 'reordered' | 'inserted' | 'withheld' | 'head_mismatch' | 'truncated' | 'rewritten' | string;
  detail: string;
}

/** The newest signed checkpoint the chain was held to (the checkpoint file, else the signed head). */
export interface ChainCheckpoint {
  seq: number;
  hash: string;
  sealedAt: string;
  keyId: string;
  source: 'file' | 'database';
}

export interface ChainReport {
  ok: boolean;
  tenants: Array<{
    tenantId: string;
    sealed: number;
    unsealed: number;
    headSeq: number | null;
    problems: ChainProblem[];
    quarantined?: number;
    macs?: 'checked' | 'unchecked';
    checkpoint?: ChainCheckpoint | null;
  }>;
  checkpoints?: { file: string; lines: number; problems: Array<{ line: number; tenantId: string | null; detail: string }> };
}

export const verifyChain = (tenant: string, signal?: AbortSignal) => api.get<ChainReport>(`/v1/tenants/${seg(tenant)}/audit/verify`, { signal });

/**
 * Downloads the filtered events as a JSON-lines file (fetch + Blob, so the session cookie and the
 * filters go with it); returns how many events the file holds.
 */
export async function downloadExport(tenant: string, f: AuditFilters): Promise<number> {
  let res: Response;
  try {
    res = await fetch(`/v1/tenants/${seg(tenant)}/audit/export?${filterParams(f)}`, { credentials: 'same-origin', headers: { accept: 'application/x-ndjson' } });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; details?: Record<string, unknown> };
    throw new ApiError(res.status, body.code ?? `http_${res.status}`, body.message ?? res.statusText, body.details);
  }
  const blob = await res.blob();
  const text = await blob.text();
  const count = text.split('\n').filter((l) => l.trim()).length;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `audit-${tenant}-${stamp}.jsonl`;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return count;
}
