/**
 * Which security key models may be added (policy `webauthn.allowedModels`, AAGUIDs): a choice among
 * the models of the uploaded FIDO metadata (GET /v1/authenticator-models). Empty: any model. Some
 * allowed: registration asks each key for its attestation and adds only keys that prove their model.
 */
import { Alert, MultiSelect, Stack } from '@mantine/core';
import { api } from '../../../lib/api';
import { useAsync } from '../../../lib/use-async';
import { usePolicyForm } from './form';

export interface KeyModel {
  aaguid: string;
  description: string;
  status: string | null;
  blobNo: number;
}

const statusNote = (status: string | null) => (status && /REVOKED|COMPROMISE/.test(status) ? ' (revoked by its maker)' : '');

export function AllowedModels() {
  const f = usePolicyForm();
  const models = useAsync((signal) => api.get<{ models: KeyModel[] }>('/v1/authenticator-models', { signal }).then((r) => r.models), []);
  const raw = f.get(['webauthn', 'allowedModels']);
  const value = Array.isArray(raw) ? raw.map(String) : [];
  const known = models.data ?? [];
  const data = [
    ...known.map((m) => ({ value: m.aaguid, label: `${m.description}${statusNote(m.status)}` })),
    // an allowed model the metadata no longer lists stays visible (the server will name it)
    ...value.filter((v) => !known.some((m) => m.aaguid === v)).map((v) => ({ value: v, label: `Unknown model (${v})` })),
  ];
  const none = !!models.data && known.length === 0;
  return (
    <Stack gap={6} maw={560}>
      <MultiSelect
        label="Allowed key models"
        description={
          none
            ? 'No key models are known yet: a platform operator uploads the FIDO metadata first. Until then any model can be added.'
            : models.error
              ? 'The list of key models could not be loaded.'
              : 'Leave empty to allow any model. Choosing some allows only those, and each new key must then prove its model (attestation).'
        }
        placeholder={value.length ? undefined : 'Any model'}
        data={data}
        value={value}
        onChange={(v) => f.set(['webauthn', 'allowedModels'], v)}
        searchable
        clearable
        nothingFoundMessage="No model matches"
        disabled={f.readOnly || (none && value.length === 0)}
        error={f.errorAt('webauthn.allowedModels')}
        hidePickedOptions
        comboboxProps={{ withinPortal: true }}
      />
      {value.length > 0 && (
        <Alert color="blue" variant="light" title="Keys must prove their model">
          Only these models can be added. Adding a key then asks it for its attestation (a certificate of its model), and a key is refused unless the
          attestation checks out against the model’s FIDO metadata. Keys already added keep working.
        </Alert>
      )}
    </Stack>
  );
}
