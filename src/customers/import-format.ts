/**
 * Import files: CSV with a header row, or JSON lines (one customer object per line). Both map to the
 * API's customer input. Column names and JSON keys are matched loosely (`external_id`, `External ID`
 * and `externalId` are the same); `phone*` and `email*` columns add contacts, several in one cell
 * separated by `;`. An unknown column refuses the whole file (a typo must not drop data silently);
 * an empty cell means "not given" (an import never clears a field).
 */
import { AppError } from '../domain/errors.js';
import { CsvError, parseCsv } from './csv.js';

export const importFormats = ['csv', 'jsonl'] as const;
export type ImportFormat = (typeof importFormats)[number];

/** One data line: the raw customer input, or why the line could not even be read. */
export interface ImportLine {
  line: number;
  input?: Record<string, unknown>;
  error?: string;
}

const FIELDS: Record<string, string> = {
  externalid: 'externalId',
  crmid: 'externalId',
  name: 'name',
  accountnumber: 'accountNumber',
  account: 'accountNumber',
  nationalid: 'nationalId',
  ssn: 'nationalId',
  dateofbirth: 'dateOfBirth',
  dob: 'dateOfBirth',
  birthdate: 'dateOfBirth',
  cardlast4: 'cardLast4',
  region: 'region',
  contacts: 'contacts',
};
const key = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');
const contactKind = (k: string): 'phone' | 'email' | undefined => (/^(phone|mobile)/.test(k) ? 'phone' : /^e?mail/.test(k) ? 'email' : undefined);

function column(name: string): string | undefined {
  const k = key(name);
  return FIELDS[k] ?? (contactKind(k) ? `contact:${contactKind(k)}` : undefined);
}

/** Builds the customer input from (column, value) pairs. */
function toInput(pairs: Array<[string, unknown]>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const contacts: unknown[] = [];
  for (const [col, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    if (col.startsWith('contact:')) {
      const kind = col.slice(8);
      const values = Array.isArray(value) ? value : String(value).split(';');
      for (const v of values) if (String(v).trim()) contacts.push({ kind, value: String(v).trim() });
    } else if (col === 'contacts' && Array.isArray(value)) contacts.push(...value);
    else input[col] = typeof value === 'string' ? value.trim() : value;
  }
  if (contacts.length) input.contacts = contacts;
  return input;
}

function fromCsv(text: string): ImportLine[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvError) throw new AppError('invalid_request', { line: e.line }, `The CSV is malformed at line ${e.line}: ${e.message}.`);
    throw e;
  }
  const [header, ...rows] = records;
  if (!header) return [];
  const cols = header.fields.map((h) => ({ h, col: column(h) }));
  const unknown = cols.filter((c) => !c.col).map((c) => c.h);
  if (unknown.length) throw new AppError('invalid_request', { line: header.line, columns: unknown }, `Unknown column: ${unknown.join(', ')}.`);
  if (!cols.some((c) => c.col === 'name')) throw new AppError('invalid_request', { line: header.line }, 'The CSV header has no name column.');
  return rows.map((r) => {
    if (r.fields.length !== cols.length) return { line: r.line, error: `expected ${cols.length} fields, found ${r.fields.length}` };
    return { line: r.line, input: toInput(r.fields.map((v, i) => [cols[i]!.col!, v])) };
  });
}

function fromJsonl(text: string): ImportLine[] {
  const out: ImportLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      return void out.push({ line, error: 'not valid JSON' });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return void out.push({ line, error: 'not a JSON object' });
    const pairs = Object.entries(obj).map(([k, v]): [string, unknown] => [column(k) ?? `?${k}`, v]);
    const unknown = pairs.filter(([c]) => c.startsWith('?')).map(([c]) => c.slice(1));
    if (unknown.length) return void out.push({ line, error: `unknown field: ${unknown.join(', ')}` });
    out.push({ line, input: toInput(pairs) });
  });
  return out;
}

export function parseImport(format: ImportFormat, text: string): ImportLine[] {
  return format === 'csv' ? fromCsv(text) : fromJsonl(text);
}

/** The format named by a file name, if its extension says. */
export function formatOfFile(file: string): ImportFormat | undefined {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  return undefined;
}
