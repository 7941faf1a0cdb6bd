/** The signed-out frame: the product name over a centered card, on a quiet background. */
import { Box, Card, Center, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect, type ReactNode } from 'react';

export function BrandMark({ size = 32 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <path d="M16 2 4 7v8c0 7.5 5.1 13.6 12 15 6.9-1.4 12-7.5 12-15V7z" fill="var(--mantine-color-indigo-6)" />
      <path d="m11 16 4 4 7-8" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function AuthLayout({ title, width = 420, children, footer }: { title: string; width?: number; children: ReactNode; footer?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Callwarden`;
  }, [title]);
  return (
    <Box
      component="main"
      mih="100vh"
      py="lg"
      px="md"
      style={{ background: 'linear-gradient(160deg, var(--mantine-color-indigo-0) 0%, var(--mantine-color-gray-0) 55%, var(--mantine-color-gray-1) 100%)' }}
    >
      <Center mih="calc(100vh - 2 * var(--mantine-spacing-lg))">
        <Stack gap="md" w="100%" maw={width} align="stretch">
          <Group gap={10} justify="center" wrap="nowrap">
            <BrandMark />
            <Text component="span" fw={800} fz={26} c="indigo.8" style={{ letterSpacing: '-0.03em' }}>Callwarden</Text>
          </Group>
          <Card withBorder shadow="md" radius="lg" p="xl">
            {children}
          </Card>
          <Text size="xs" c="dimmed" ta="center">{footer ?? 'Protected by multi-factor authentication. Never share your password or codes with anyone, including IT support.'}</Text>
        </Stack>
      </Center>
    </Box>
  );
}

/** A step's heading and one line of explanation, at the top of the card. */
export function StepHeading({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Stack gap={4} mb="md">
      <Title order={1} fz={22} fw={700}>{title}</Title>
      {children && <Text size="sm" c="dimmed">{children}</Text>}
    </Stack>
  );
}
