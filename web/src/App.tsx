/** Which screen a path shows; signed-out users go to /signin, and back where they were afterwards. */
import { Center, Loader } from '@mantine/core';
import { useEffect, type ReactNode } from 'react';
import { Shell } from './layout/Shell';
import { match, navigate, useLocation } from './lib/router';
import { useSession } from './lib/session';
import { ApprovalsPage } from './pages/admin/ApprovalsPage';
import { AuditPage } from './pages/admin/AuditPage';
import { PolicyPage } from './pages/admin/PolicyPage';
import { RolesPage } from './pages/admin/RolesPage';
import { TenantsPage } from './pages/admin/TenantsPage';
import { UsersPage } from './pages/admin/UsersPage';
import { AgentDesktop } from './pages/agent/AgentDesktop';
import { VerificationPage } from './pages/agent/VerificationPage';
import { SecurityPage } from './pages/security/SecurityPage';
import { SetupPage } from './pages/Setup';
import { SignInPage } from './pages/SignIn';

const publicScreens: Record<string, () => ReactNode> = {
  '/signin': () => <SignInPage />,
  '/setup': () => <SetupPage />,
};

const screens: Array<[string, (p: Record<string, string>) => ReactNode]> = [
  ['/security', () => <SecurityPage />],
  ['/agent', () => <AgentDesktop />],
  ['/agent/verifications/:id', (p) => <VerificationPage key={p.id} id={p.id!} />],
  ['/admin/tenants', () => <TenantsPage />],
  ['/admin/users', () => <UsersPage />],
  ['/admin/approvals', () => <ApprovalsPage />],
  ['/admin/roles', () => <RolesPage />],
  ['/admin/policy', () => <PolicyPage />],
  ['/admin/audit', () => <AuditPage />],
];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const { me, loading, ended, can } = useSession();
  const { path } = useLocation();
  if (publicScreens[path]) return publicScreens[path]!();
  if (loading) return <Center h="100vh"><Loader aria-label="Loading" /></Center>;
  if (!me) return <Redirect to={`/signin?next=${encodeURIComponent(path + location.search)}${ended ? '&ended=1' : ''}`} />;
  if (path === '/') return <Redirect to={can('verifications.start') ? '/agent' : can('users.read') ? '/admin/users' : '/security'} />;
  for (const [pattern, render] of screens) {
    const m = match(pattern, path);
    if (m) return <Shell>{render(m)}</Shell>;
  }
  return <Shell><Redirect to="/" /></Shell>;
}
