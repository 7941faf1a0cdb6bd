/**
 * Blocklist of common passwords (NIST 800-63B PV-8, ASVS 6.2.4): the ~49k-entry list shipped in
 * `@zxcvbn-ts/language-common` v3, built into a Set of NFKC-normalized, lower-cased entries on first
 * use. The package is CommonJS without an `exports` map; its `dictionary` export is a named export
 * that Node's ESM loader detects (and that its `module` ESM build has too), so a named import works
 * with tsc (NodeNext), Node, tsx and vitest.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

let blocklist: Set<string> | undefined;

function fold(pw: string): string {
  return pw.normalize('NFKC').toLowerCase();
}

function load(): Set<string> {
  blocklist ??= new Set(dictionary.passwords.map(fold));
  return blocklist;
}

/** True when the password, NFKC-normalized and lower-cased, is on the common-password list. */
export function isCommonPassword(pw: string): boolean {
  return load().has(fold(pw));
}
