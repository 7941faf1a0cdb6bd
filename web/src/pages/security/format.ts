/** Dates, devices and sign-in methods in words for the security screen. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

/** "just now", "5 minutes ago", "yesterday", or the date when older than a week. */
export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'Never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(s / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(s / 86_400), 'day');
  return formatDateTime(iso);
}

const browsers: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/(?:Headless)?Chrome\/(\d+)/, 'Chrome'],
  [/CriOS\/(\d+)/, 'Chrome'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/FxiOS\/(\d+)/, 'Firefox'],
  [/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const systems: Array<[RegExp, string]> = [
  [/Windows NT/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

const tools: Array<[RegExp, string]> = [
  [/^curl\//i, 'curl'],
  [/^Wget\//i, 'Wget'],
  [/^python-requests|^python-urllib/i, 'Python script'],
  [/^node|^undici|^axios/i, 'Node.js script'],
  [/^lightMyRequest/i, 'API client'],
  [/^PostmanRuntime/i, 'Postman'],
];

/** "Chrome 131 on Linux", "Safari 17 on iOS", "curl", or "Unknown device". */
export function deviceName(ua: string | null | undefined): string {
  if (!ua) return 'Unknown device';
  for (const [re, name] of tools) if (re.test(ua)) return name;
  const os = systems.find(([re]) => re.test(ua))?.[1];
  for (const [re, name] of browsers) {
    const m = re.exec(ua);
    if (m) return `${name} ${m[1]}${os ? ` on ${os}` : ''}`;
  }
  return os ? `Browser on ${os}` : ua.length > 40 ? `${ua.slice(0, 40)}…` : ua;
}

const methodWords: Record<string, string> = {
  pwd: 'Password',
  password: 'Password',
  totp: 'Authenticator app',
  recovery_code: 'Recovery code',
  webauthn: 'Security key',
  webauthn_uv: 'Security key with PIN or biometrics',
  webauthn_synced: 'Synced passkey',
  webauthn_synced_uv: 'Passkey',
  sms: 'Text message',
};

export const methodName = (m: string) => methodWords[m] ?? m.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** ["pwd","totp"] -> "Password + authenticator app". */
export function methodsInWords(methods: string[] | undefined): string {
  if (!methods?.length) return '—';
  return methods.map((m, i) => (i === 0 ? methodName(m) : methodName(m).toLowerCase())).join(' + ');
}
