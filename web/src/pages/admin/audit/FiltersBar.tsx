/** The audit log's filters: event type, outcome, who did it, and a range of days. */
import { Button, Group, Select, TextInput } from '@mantine/core';
import { dateRangeError, noFilters, type AuditFilters } from './audit-api';
import type { Person } from './directory';
import { outcomes, typeOptions } from './event-types';

export function FiltersBar({ value, onChange, people, meId, seenTypes }: { value: AuditFilters; onChange(f: AuditFilters): void; people: Person[]; meId?: string; seenTypes: string[] }) {
  const set = (patch: Partial<AuditFilters>) => onChange({ ...value, ...patch });
  const actorOptions = [
    ...(meId ? [{ value: meId, label: 'Me' }] : []),
    ...people.filter((p) => p.id !== meId).map((p) => ({ value: p.id, label: p.email })),
  ];
  const active = JSON.stringify(value) !== JSON.stringify(noFilters);
  return (
    <Group gap="sm" align="flex-end" wrap="wrap" role="search" aria-label="Filter the audit log">
      <Select
        label="Event type"
        placeholder="All events"
        data={typeOptions(value.type ? [...seenTypes, value.type] : seenTypes)}
        value={value.type}
        onChange={(v) => set({ type: v })}
        searchable
        clearable
        nothingFoundMessage="No such event type"
        w={250}
        comboboxProps={{ withinPortal: true }}
      />
      <Select
        label="Outcome"
        placeholder="Any outcome"
        data={Object.entries(outcomes).map(([k, o]) => ({ value: k, label: o.label }))}
        value={value.outcome}
        onChange={(v) => set({ outcome: v })}
        clearable
        w={150}
      />
      <Select
        label="Done by"
        placeholder="Anyone"
        data={actorOptions}
        value={value.actorId}
        onChange={(v) => set({ actorId: v })}
        searchable
        clearable
        nothingFoundMessage="No such user"
        w={230}
      />
      <TextInput label="From" type="date" value={value.fromDay} onChange={(e) => set({ fromDay: e.currentTarget.value })} w={150} />
      <TextInput label="To" type="date" value={value.toDay} onChange={(e) => set({ toDay: e.currentTarget.value })} error={dateRangeError(value)} w={150} />
      {active && <Button variant="subtle" onClick={() => onChange(noFilters)}>Clear filters</Button>}
    </Group>
  );
}
