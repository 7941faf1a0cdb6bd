/** Staff sign-in: the MFA switch, allowed factors, security keys and passkeys, grace period and per-role overrides. */
import { Checkbox, Group, Input, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { isMfaMode, mfaModes, mfaModeWords, type MfaMode } from '../tenants/mfa-modes';
import { NumberField, usePolicyForm } from './form';
import { KeysSettings } from './KeysSettings';
import { factorWords } from './words';

export interface RoleInfo {
  name: string;
  description: string;
  builtin: boolean;
}

export function MfaSection({ roles }: { roles: RoleInfo[] | undefined }) {
  const f = usePolicyForm();
  const mode = f.get(['mfa', 'mode']);
  const allowed = f.get(['mfa', 'allowedFactors']);
  const overrides = (f.get(['mfa', 'roles']) ?? {}) as Record<string, unknown>;
  // roles known to the tenant, plus any override naming a role the list does not have
  const names = [...new Set([...(roles ?? []).map((r) => r.name), ...Object.keys(overrides)])];
  return (
    <Stack gap="lg">
      <Stack gap={6}>
        <Title order={4} id="policy-mfa-mode">MFA mode</Title>
        <Text size="sm" c="dimmed">The tenant-wide switch. Role settings below can make it stricter or looser for some people.</Text>
        <Group>
          <SegmentedControl
            aria-labelledby="policy-mfa-mode"
            value={isMfaMode(mode) ? mode : ''}
            onChange={(v) => f.set(['mfa', 'mode'], v)}
            data={mfaModes.map((m) => ({ value: m, label: mfaModeWords[m].label }))}
            disabled={f.readOnly}
            color={isMfaMode(mode) ? mfaModeWords[mode].color : undefined}
          />
        </Group>
        {isMfaMode(mode) && <Text size="sm">{mfaModeWords[mode].explain}</Text>}
        {f.errorAt('mfa.mode') && <Input.Error>{f.errorAt('mfa.mode')}</Input.Error>}
      </Stack>

      <Checkbox.Group
        label="Allowed second factors"
        description="What staff may enroll and use. Recovery codes are a backup and cannot be the only one."
        value={Array.isArray(allowed) ? allowed.map(String) : []}
        onChange={(v) => f.set(['mfa', 'allowedFactors'], v)}
        error={f.errorAt('mfa.allowedFactors')}
      >
        <Group mt={6}>
          {Object.entries(factorWords).map(([k, label]) => <Checkbox key={k} value={k} label={label} disabled={f.readOnly} />)}
        </Group>
      </Checkbox.Group>

      <KeysSettings />

      <Stack gap={6}>
        <Title order={4}>Enrollment grace period</Title>
        <Text size="sm" c="dimmed">
          How long someone who must enroll may still sign in with the password alone. Leave both empty for no grace period; with both set, the first limit reached ends it.
        </Text>
        <SimpleGrid cols={2} maw={560}>
          <NumberField path="mfa.grace.days" label="Grace period (days)" min={0} max={365} nullable placeholder="No limit" />
          <NumberField path="mfa.grace.signins" label="Grace period (sign-ins)" min={0} max={1000} nullable placeholder="No limit" />
        </SimpleGrid>
      </Stack>

      <Stack gap={6}>
        <Title order={4}>MFA per role</Title>
        <Text size="sm" c="dimmed">Overrides the tenant mode for people with a role. Someone with several overridden roles gets the strictest.</Text>
        {f.errorAt('mfa.roles') && <Input.Error>{f.errorAt('mfa.roles')}</Input.Error>}
        {names.length === 0 ? (
          <Text size="sm" c="dimmed">{roles ? 'This tenant has no roles yet.' : 'Role overrides appear here once set.'}</Text>
        ) : (
          <Table verticalSpacing={6} aria-label="MFA per role" maw={860}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Role</Table.Th>
                <Table.Th>Description</Table.Th>
                <Table.Th w={220}>MFA</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {names.map((name) => {
                const info = roles?.find((r) => r.name === name);
                const v = overrides[name];
                return (
                  <Table.Tr key={name}>
                    <Table.Td><Text size="sm" fw={600}>{name}</Text></Table.Td>
                    <Table.Td><Text size="sm" c="dimmed" lineClamp={1}>{info?.description || (info ? 'Custom role' : 'Unknown role')}</Text></Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={`MFA for role ${name}`}
                        size="xs"
                        data={[{ value: 'inherit', label: 'Tenant setting' }, ...mfaModes.map((m) => ({ value: m, label: mfaModeWords[m].label }))]}
                        value={isMfaMode(v) ? v : 'inherit'}
                        onChange={(nv) => {
                          const next = { ...overrides };
                          if (!nv || nv === 'inherit') delete next[name];
                          else next[name] = nv as MfaMode;
                          f.set(['mfa', 'roles'], next);
                        }}
                        allowDeselect={false}
                        disabled={f.readOnly}
                        error={f.errorAt(`mfa.roles.${name}`)}
                      />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Stack>
  );
}
