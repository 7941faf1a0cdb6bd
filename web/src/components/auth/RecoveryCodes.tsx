/** Recovery codes shown once: a two-column list with copy and download (.txt) actions. */
import { Box, Button, CopyButton, Group, Paper, Text } from '@mantine/core';

export function recoveryCodesText(codes: string[], who?: { email?: string; tenant?: string }): string {
  const lines = [
    'Callwarden recovery codes',
    who?.email ? `Account: ${who.email}${who.tenant ? ` (organization: ${who.tenant})` : ''}` : '',
    `Created: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    'Each code signs you in once if you cannot use your authenticator app.',
    'Keep them somewhere safe, such as a password manager. Creating new codes cancels these.',
    '',
    ...codes,
    '',
  ];
  return lines.filter((l, i) => l !== '' || i > 1).join('\n');
}

export function downloadText(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function RecoveryCodes({ codes, who }: { codes: string[]; who?: { email?: string; tenant?: string } }) {
  const text = recoveryCodesText(codes, who);
  return (
    <>
      <Paper withBorder radius="md" p="md" bg="gray.0">
        <Box component="ul" aria-label="Recovery codes" style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gridTemplateColumns: '1fr 1fr', gap: '6px var(--mantine-spacing-md)' }}>
          {codes.map((c) => (
            <Text key={c} component="li" ff="monospace" fz="md" ta="center" style={{ letterSpacing: '0.05em' }}>{c}</Text>
          ))}
        </Box>
      </Paper>
      <Group grow gap="sm">
        <CopyButton value={codes.join('\n')} timeout={2000}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy} color={copied ? 'teal' : undefined}>{copied ? 'Copied ✓' : 'Copy codes'}</Button>
          )}
        </CopyButton>
        <Button variant="default" onClick={() => downloadText(`callwarden-recovery-codes${who?.tenant ? `-${who.tenant}` : ''}.txt`, text)}>Download .txt</Button>
      </Group>
    </>
  );
}
