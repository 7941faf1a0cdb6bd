/**
 * The server's invalid_policy details ({ issues: [{ path, message }] }) in words, keyed by the
 * setting's dotted path so each form field can show its own.
 */
import { ApiError } from '../../../lib/api';
import { labelFor } from './words';

export interface Issue {
  path: string;
  message: string;
}

export function issueWords(message: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^Too big: expected number to be <=?\s*(-?[\d.]+)/.exec(message))) return `Must be at most ${m[1]}.`;
  if ((m = /^Too big: expected number to be <\s*(-?[\d.]+)/.exec(message))) return `Must be less than ${m[1]}.`;
  if ((m = /^Too small: expected number to be >=?\s*(-?[\d.]+)/.exec(message))) return `Must be at least ${m[1]}.`;
  if ((m = /^Too small: expected array to have >=?\s*(\d+)/.exec(message))) return m[1] === '1' ? 'Choose at least one.' : `Choose at least ${m[1]}.`;
  if ((m = /^Too big: expected array to have <=?\s*(\d+)/.exec(message))) return `At most ${m[1]} are allowed.`;
  if ((m = /^Too big: expected string to have <=?\s*(\d+)/.exec(message))) return `Use at most ${m[1]} characters.`;
  if (/expected int, received number/.test(message)) return 'Enter a whole number.';
  if (/expected number, received/.test(message)) return 'Enter a number.';
  if (/expected boolean/.test(message)) return 'Choose on or off.';
  if (/^Invalid option: expected one of/.test(message)) return 'Choose one of the listed values.';
  if ((m = /^Unrecognized keys?: (.+)$/.exec(message))) return `Unknown setting ${m[1]}.`;
  if (message === 'Invalid key in record') return 'Names must start with a lower-case letter and use only lower-case letters, digits and underscores (2-31 characters).';
  if (message === 'must be at least idleMinutes') return 'Must be at least the idle timeout.';
  if (message === 'must be at least backoffBaseSeconds') return 'Must be at least the first wait.';
  if (message === 'no such role') return 'There is no role with this name in this tenant.';
  if (message === 'recovery codes are a backup: allow a primary factor too') return 'Recovery codes are only a backup: allow the authenticator app or security keys too.';
  if (message === 'security questions are never sufficient alone') return 'Security questions alone are never enough: add another requirement.';
  if ((m = /^level "(.+)" is named but not defined$/.exec(message))) return `The level "${m[1]}" is used but not defined.`;
  if (/^Invalid input/.test(message)) return 'This value is not valid here.';
  const s = message.trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : 'This value is not valid.';
}

/** Issues from an invalid_policy error (or none for other errors). */
export function policyIssues(e: unknown): Issue[] | null {
  if (!(e instanceof ApiError) || e.code !== 'invalid_policy') return null;
  const raw = (e.details as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((i): i is Issue => !!i && typeof (i as Issue).path === 'string' && typeof (i as Issue).message === 'string')
    .map((i) => ({ path: i.path, message: issueWords(i.message) }));
}

/** One sentence per issue, naming the setting. */
export const issueLine = (i: Issue) => `${labelFor(i.path)}: ${i.message}`;
