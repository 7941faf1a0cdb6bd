/** The signed-in frame: header with tenant (a picker for platform operators) and user, navigation by permission, the screen in the middle. */
import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { linkClick, navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { TenantPicker } from '../pages/admin/tenants/TenantPicker';

export interface NavItem {
  to: string;
  label: string;
  /** Shown when the user holds this permission (or always when absent). */
  permission?: string;
  section: 'Agent' | 'Account' | 'Administration';
}

export const navItems: NavItem[] = [
  { to: '/agent', label: 'Caller verification', permission: 'verifications.start', section: 'Agent' },
  { to: '/security', label: 'Sign-in & security', section: 'Account' },
  { to: '/admin/tenants', label: 'Tenants', permission: 'platform.tenants.manage', section: 'Administration' },
  { to: '/admin/users', label: 'Users', permission: 'users.read', section: 'Administration' },
  { to: '/admin/approvals', label: 'Approvals', permission: 'users.factors.reset', section: 'Administration' },
  { to: '/admin/roles', label: 'Roles & permissions', permission: 'roles.read', section: 'Administration' },
  { to: '/admin/policy', label: 'MFA policy', permission: 'policy.read', section: 'Administration' },
  { to: '/admin/audit', label: 'Audit log', permission: 'audit.read', section: 'Administration' },
];

export function Shell({ children }: { children: ReactNode }) {
  const { me, can, signOut, isOperator } = useSession();
  const { path } = useLocation();
  const [opened, { toggle }] = useDisclosure();
  const visible = navItems.filter((i) => !i.permission || can(i.permission));
  const sections = [...new Set(visible.map((i) => i.section))];
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={3} c="indigo.7" style={{ letterSpacing: '-0.02em' }}>Callwarden</Title>
            {me && (isOperator ? <TenantPicker /> : <Badge variant="light" color="gray" size="lg" tt="none">{me.tenant}</Badge>)}
          </Group>
          {me && (
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" c="dimmed" visibleFrom="sm" data-testid="signed-in-as">{me.email}</Text>
              <Button variant="default" size="xs" onClick={async () => { await signOut(); navigate('/signin', { replace: true }); }}>Sign out</Button>
            </Group>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          {sections.map((sec) => (
            <div key={sec}>
              <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mt="sm" mb={4}>{sec}</Text>
              {visible.filter((i) => i.section === sec).map((i) => (
                <NavLink key={i.to} href={i.to} label={i.label} active={path === i.to || path.startsWith(i.to + '/')} onClick={linkClick(i.to)} />
              ))}
            </div>
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
