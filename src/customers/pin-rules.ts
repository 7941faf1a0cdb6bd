/**
 * Customer PIN rules: 4 to 8 digits, and not trivially guessable. Refused: one digit repeated
 * (0000), runs up or down (1234, 4321, 7890, 123456; 0 follows 9 as on a keypad), a repeated block
 * (1212, 123123), the most common PINs (the top 20 of the DataGenetics study of 3.4 million PINs and
 * common longer ones), and PINs derived from the customer's own data: the last digits of an on-file
 * phone, of the account number or the card last four, or a form of the date of birth (1984,
 * 0412, 1204, 19840412, 041284, ...).
 */

export interface PinContext {
  /** On-file phones (E.164). */
  phones?: string[];
  /** YYYY-MM-DD. */
  dateOfBirth?: string | null;
  cardLast4?: string | null;
  accountNumber?: string | null;
}

export type PinReasonCode = 'format' | 'repeated' | 'sequence' | 'pattern' | 'common' | 'personal';
export interface PinReason {
  code: PinReasonCode;
  message: string;
}

/** DataGenetics' 20 most common 4-digit PINs, keypad lines, and common 6- and 8-digit PINs. */
const COMMON = new Set([
  '1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969',
  '9999', '3333', '5555', '6666', '1122', '1313', '8888', '4321', '2001', '1010',
  '2580', '0852', '1470', '7410', '3690', '0963', '1379', '1397',
  '123456', '654321', '111111', '000000', '121212', '123123', '112233', '696969', '159753', '123321', '147258', '258369', '789456', '101010', '520520',
  '12345678', '87654321', '11111111', '00000000', '12341234', '11223344', '12121212',
]);

/** Every digit one more (or one less) than the previous, modulo 10. */
function isRun(pin: string): boolean {
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => (x - d[i]! + 10) % 10));
  return steps.size === 1 && (steps.has(1) || steps.has(9));
}

/** The PIN is a shorter block repeated (1212, 123123, 12341234). */
function isRepeatedBlock(pin: string): boolean {
  for (let n = 2; n <= pin.length / 2; n++) {
    if (pin.length % n === 0 && pin.slice(0, n).repeat(pin.length / n) === pin) return true;
  }
  return false;
}

/** Forms of a date of birth people use as PINs. */
function dateForms(iso: string): string[] {
  const [y, m, d] = iso.split('-') as [string, string, string];
  const yy = y.slice(2);
  return [y, m + d, d + m, m + yy, yy + m, y + m + d, yy + m + d, m + d + yy, d + m + yy, m + d + y, d + m + y, (y + m + d).slice(-5), (y + m + d).slice(-7)];
}

export function pinFromPersonalData(pin: string, ctx: PinContext): boolean {
  const tail = (s: string | null | undefined) => {
    const digits = (s ?? '').replace(/\D/g, '');
    return digits.length >= pin.length ? digits.slice(-pin.length) : null;
  };
  if ((ctx.phones ?? []).some((p) => tail(p) === pin)) return true;
  if (tail(ctx.accountNumber) === pin || (ctx.cardLast4 && ctx.cardLast4 === pin)) return true;
  return ctx.dateOfBirth ? dateForms(ctx.dateOfBirth).includes(pin) : false;
}

export function checkPin(pin: string, ctx: PinContext = {}): { ok: true } | { ok: false; reasons: PinReason[] } {
  if (!/^\d{4,8}$/.test(pin)) return { ok: false, reasons: [{ code: 'format', message: 'A PIN is 4 to 8 digits.' }] };
  const reasons: PinReason[] = [];
  if (/^(\d)\1*$/.test(pin)) reasons.push({ code: 'repeated', message: 'The PIN repeats one digit.' });
  else if (isRun(pin)) reasons.push({ code: 'sequence', message: 'The PIN is a run of consecutive digits.' });
  else if (isRepeatedBlock(pin)) reasons.push({ code: 'pattern', message: 'The PIN repeats a shorter block of digits.' });
  if (COMMON.has(pin)) reasons.push({ code: 'common', message: 'The PIN is one of the most common PINs.' });
  if (pinFromPersonalData(pin, ctx)) reasons.push({ code: 'personal', message: "The PIN comes from the customer's phone number, date of birth, account or card number." });
  return reasons.length ? { ok: false, reasons } : { ok: true };
}
