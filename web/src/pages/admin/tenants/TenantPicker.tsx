/** Header control for platform operators: which tenant the admin and agent screens act in. */
import { Select } from '@mantine/core';
import { useSession } from '../../../lib/session';
import { useTenant } from '../../../lib/tenant';
import { useTenantList } from './tenant-list';

export function TenantPicker() {
  const { isOperator } = useSession();
  const { tenant, setTenant } = useTenant();
  const { data, loading } = useTenantList(isOperator);
  if (!isOperator) return null;
  const tenants = data ?? [];
  const options = tenants.map((t) => ({ value: t.slug, label: t.isPlatform ? `${t.name} (platform)` : `${t.name} · ${t.slug}` }));
  // the current tenant is always an option, even before the list arrives
  if (tenant && !options.some((o) => o.value === tenant)) options.unshift({ value: tenant, label: tenant });
  return (
    <Select
      aria-label="Current tenant"
      placeholder={loading ? 'Loading tenants…' : 'Choose a tenant'}
      data={options}
      value={tenant || null}
      onChange={(v) => v && setTenant(v)}
      searchable
      allowDeselect={false}
      nothingFoundMessage="No tenant matches"
      size="sm"
      w={260}
      comboboxProps={{ withinPortal: true }}
    />
  );
}
