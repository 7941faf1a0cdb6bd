/**
 * The tenant's MFA, sensitive-action and session policy as a form (or JSON). Saving first shows what changes and who
 * it affects (the server's preview), then saves a new version; refused settings are named in words.
 */
import { Alert, Badge, Button, Group, List, Paper, Skeleton, Stack, Tabs, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useMemo, useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { api, ApiError, seg } from '../../lib/api';
import { useSession } from '../../lib/session';
import { useTenant } from '../../lib/tenant';
import { useAsync } from '../../lib/use-async';
import { PolicyFormProvider } from './policy/form';
import { issueLine, policyIssues, type Issue } from './policy/issues';
import { JsonEditor } from './policy/JsonEditor';
import { MfaSection, type RoleInfo } from './policy/MfaSection';
import { previewPolicy, readPolicy, savePolicy, setIn, type PolicyDoc, type PolicyPreview } from './policy/policy-api';
import { ReviewModal } from './policy/ReviewModal';
import { SessionSection } from './policy/SessionSection';
import { StepUpSettings } from './policy/StepUpSettings';
import { VerificationSection } from './policy/VerificationSection';
import { diffPolicy } from './policy/words';

const tabOf = (path: string) =>
  path.startsWith('mfa') || path.startsWith('webauthn')
    ? 'mfa'
    : path.startsWith('stepUp')
      ? 'stepup'
      : path.startsWith('session') || path.startsWith('lockout') || path === 'pciMode'
        ? 'session'
        : path.startsWith('verification')
          ? 'verification'
          : 'json';

export function PolicyPage() {
  const { tenant } = useTenant();
  const { can } = useSession();
  const readOnly = !can('policy.write');
  const current = useAsync((signal) => readPolicy(tenant, signal), [tenant]);
  const info = useAsync((signal) => api.get<{ name: string }>(`/v1/tenants/${seg(tenant)}`, { signal }), [tenant]);
  const roles = useAsync(
    async (signal) => (can('roles.read') ? (await api.get<{ roles: RoleInfo[] }>(`/v1/tenants/${seg(tenant)}/roles`, { signal })).roles : undefined),
    [tenant, can('roles.read')],
  );

  const [draft, setDraft] = useState<PolicyDoc | null>(null);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [generation, setGeneration] = useState(0);
  const [tab, setTab] = useState<string | null>('mfa');
  const [jsonOk, setJsonOk] = useState(true);
  const [checking, setChecking] = useState(false);
  const [pageError, setPageError] = useState<unknown>(null);
  const [review, setReview] = useState<{ preview?: PolicyPreview; error?: unknown; conflict?: boolean } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!current.data) return;
    setDraft(current.data.policy);
    setIssues([]);
    setJsonOk(true);
    setGeneration((g) => g + 1);
  }, [current.data]);

  const changes = useMemo(() => (current.data && draft ? diffPolicy(current.data.policy, draft) : []), [current.data, draft]);
  const tenantName = info.data?.name ?? tenant;

  const startReview = async () => {
    if (!draft) return;
    setChecking(true);
    setPageError(null);
    try {
      const preview = await previewPolicy(tenant, draft);
      setIssues([]);
      setReview({ preview });
    } catch (e) {
      const found = policyIssues(e);
      if (found) {
        setIssues(found);
        if (found[0]) setTab(tabOf(found[0].path));
      } else setPageError(e);
    } finally {
      setChecking(false);
    }
  };

  const save = async () => {
    if (!draft || !current.data) return;
    setSaving(true);
    try {
      const saved = await savePolicy(tenant, current.data.version, draft);
      setReview(null);
      current.setData(saved);
      notifications.show({ color: 'green', title: 'Policy saved', message: `${tenantName} now uses policy version ${saved.version}.` });
    } catch (e) {
      const found = policyIssues(e);
      if (found) {
        setReview(null);
        setIssues(found);
      } else setReview((r) => ({ ...r, error: e, conflict: e instanceof ApiError && e.code === 'conflict' }));
    } finally {
      setSaving(false);
    }
  };

  const discard = () => {
    if (!current.data) return;
    setDraft(current.data.policy);
    setIssues([]);
    setJsonOk(true);
    setGeneration((g) => g + 1);
  };

  const count = (t: string) => issues.filter((i) => tabOf(i.path) === t).length;
  const tabLabel = (t: string, label: string) => (
    <Group gap={6} wrap="nowrap">
      {label}
      {count(t) > 0 && <Badge size="xs" color="red" circle aria-label={`${count(t)} to fix`}>{count(t)}</Badge>}
    </Group>
  );

  return (
    <>
      <PageTitle
        title="MFA policy"
        description={<>Sign-in, session and caller-verification rules for <b>{tenantName}</b>{current.data ? ` · version ${current.data.version}` : ''}.</>}
      />
      {readOnly && (
        <Alert color="gray" variant="light" mb="md" title="View only">You can read this policy; changing it needs the policy.write permission.</Alert>
      )}
      <ErrorAlert error={current.error} title="The policy could not be loaded" />
      <ErrorAlert error={pageError} title="The change could not be checked" />
      {issues.length > 0 && (
        <Alert color="red" variant="light" mb="md" title="Some settings need attention before saving" role="alert" data-testid="policy-issues">
          <List size="sm" spacing={2}>
            {issues.map((i, n) => <List.Item key={n}>{issueLine(i)}</List.Item>)}
          </List>
        </Alert>
      )}
      {!draft ? (
        current.loading && (
          <Stack gap="sm" role="status" aria-label="Loading the policy">
            <Skeleton h={36} w={420} />
            <Skeleton h={120} />
            <Skeleton h={220} />
          </Stack>
        )
      ) : (
        <PolicyFormProvider
          value={{
            draft,
            set: (path, v) => {
              setDraft((d) => setIn(d, path, v));
              // an edited setting's refusal no longer applies
              const p = path.join('.');
              if (p) setIssues((list) => list.filter((i) => i.path !== p && !i.path.startsWith(p + '.')));
            },
            issues,
            readOnly,
          }}
        >
          <Tabs value={tab} onChange={setTab} keepMounted={false}>
            <Tabs.List mb="md">
              <Tabs.Tab value="mfa">{tabLabel('mfa', 'Staff sign-in')}</Tabs.Tab>
              <Tabs.Tab value="stepup">{tabLabel('stepup', 'Sensitive actions')}</Tabs.Tab>
              <Tabs.Tab value="session">{tabLabel('session', 'Sessions & lockout')}</Tabs.Tab>
              <Tabs.Tab value="verification">{tabLabel('verification', 'Caller verification')}</Tabs.Tab>
              <Tabs.Tab value="json">{tabLabel('json', 'Advanced (JSON)')}</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="mfa"><MfaSection roles={roles.data} /></Tabs.Panel>
            <Tabs.Panel value="stepup"><StepUpSettings /></Tabs.Panel>
            <Tabs.Panel value="session"><SessionSection /></Tabs.Panel>
            <Tabs.Panel value="verification"><VerificationSection /></Tabs.Panel>
            <Tabs.Panel value="json"><JsonEditor key={generation} onValidity={setJsonOk} /></Tabs.Panel>
          </Tabs>
          {!readOnly && (
            <Paper withBorder shadow="sm" p="sm" mt="lg" radius="md" style={{ position: 'sticky', bottom: 8, zIndex: 5 }}>
              <Group justify="space-between" gap="xs">
                <Text size="sm" c={changes.length ? undefined : 'dimmed'} aria-live="polite">
                  {!jsonOk
                    ? 'Fix the JSON before reviewing the change.'
                    : changes.length === 0
                      ? 'No unsaved changes.'
                      : `${changes.length} unsaved change${changes.length === 1 ? '' : 's'}.`}
                </Text>
                <Group gap="xs">
                  <Button variant="default" onClick={discard} disabled={changes.length === 0 || checking}>Discard changes</Button>
                  <Button onClick={() => void startReview()} loading={checking} disabled={changes.length === 0 || !jsonOk || current.loading}>Review and save</Button>
                </Group>
              </Group>
            </Paper>
          )}
        </PolicyFormProvider>
      )}
      <ReviewModal
        opened={!!review}
        tenantName={tenantName}
        changes={changes}
        preview={review?.preview}
        error={review?.error}
        conflict={!!review?.conflict}
        saving={saving}
        onClose={() => setReview(null)}
        onSave={() => void save()}
        onReload={() => {
          setReview(null);
          void current.reload();
        }}
      />
    </>
  );
}
