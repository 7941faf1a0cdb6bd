/** The policy draft shared by the editor's sections, and fields bound to a dotted path in it. */
import { NumberInput, Switch } from '@mantine/core';
import { createContext, useContext, type ReactNode } from 'react';
import { getIn, type PolicyDoc } from './policy-api';
import type { Issue } from './issues';

export interface PolicyForm {
  draft: PolicyDoc;
  set(path: readonly (string | number)[], value: unknown): void;
  issues: Issue[];
  readOnly: boolean;
}

const Ctx = createContext<PolicyForm | null>(null);

export function PolicyFormProvider({ value, children }: { value: PolicyForm; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function usePolicyForm(): PolicyForm & { get(path: readonly (string | number)[]): unknown; errorAt(path: string): string | undefined } {
  const f = useContext(Ctx);
  if (!f) throw new Error('usePolicyForm outside PolicyFormProvider');
  return {
    ...f,
    get: (path) => getIn(f.draft, path),
    errorAt: (path) => {
      const mine = f.issues.filter((i) => i.path === path);
      return mine.length ? mine.map((i) => i.message).join(' ') : undefined;
    },
  };
}

/** A whole-number setting; `nullable` settings store null when left empty ("no limit"). */
export function NumberField(p: { path: string; label: string; description?: ReactNode; min?: number; max?: number; nullable?: boolean; placeholder?: string; suffix?: string }) {
  const f = usePolicyForm();
  const path = p.path.split('.');
  const v = f.get(path);
  return (
    <NumberInput
      label={p.label}
      description={p.description}
      value={typeof v === 'number' ? v : typeof v === 'string' ? v : ''}
      onChange={(n) => f.set(path, n === '' ? (p.nullable ? null : '') : typeof n === 'number' ? n : Number(n))}
      min={p.min}
      max={p.max}
      clampBehavior="none"
      allowDecimal={false}
      placeholder={p.placeholder}
      suffix={p.suffix}
      error={f.errorAt(p.path)}
      disabled={f.readOnly}
    />
  );
}

export function SwitchField(p: { path: string; label: string; description?: ReactNode }) {
  const f = usePolicyForm();
  const path = p.path.split('.');
  return (
    <Switch
      label={p.label}
      description={p.description}
      checked={f.get(path) === true}
      onChange={(e) => f.set(path, e.currentTarget.checked)}
      error={f.errorAt(p.path)}
      disabled={f.readOnly}
    />
  );
}
