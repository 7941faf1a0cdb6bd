/**
 * Caller-verification levels: each level is satisfied by any one of its options; an option lists
 * requirements, each met by a different completed method.
 */
import { ActionIcon, Badge, Button, Card, Group, Input, NativeSelect, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { Requirement, VerificationLevel } from './policy-api';
import { usePolicyForm } from './form';
import { requirementWords } from './words';

const requirementOptions = Object.entries(requirementWords).map(([value, label]) => ({ value, label }));
const NAME = /^[a-z][a-z0-9_]{1,30}$/;

export function LevelsEditor() {
  const f = usePolicyForm();
  const raw = f.get(['verification', 'levels']);
  const levels = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, VerificationLevel>;
  const [newName, setNewName] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const setLevels = (next: Record<string, VerificationLevel>) => f.set(['verification', 'levels'], next);
  const setLevel = (name: string, l: VerificationLevel) => setLevels({ ...levels, [name]: l });
  const defaultLevel = f.get(['verification', 'defaultLevel']);
  const highLevel = f.get(['verification', 'risk', 'highLevel']);

  const add = () => {
    const n = newName.trim();
    if (!NAME.test(n)) return setNameError('Start with a lower-case letter; use lower-case letters, digits and underscores (2-31 characters).');
    if (levels[n]) return setNameError('A level with this name exists.');
    setNameError(undefined);
    setNewName('');
    setLevels({ ...levels, [n]: { description: '', anyOf: [['possession']] } });
  };

  return (
    <Stack gap="sm">
      {f.errorAt('verification.levels') && <Input.Error>{f.errorAt('verification.levels')}</Input.Error>}
      {Object.entries(levels).map(([name, level]) => {
        const anyOf = Array.isArray(level?.anyOf) ? level.anyOf : [];
        const setAnyOf = (next: Requirement[][]) => setLevel(name, { ...level, anyOf: next });
        return (
          <Card key={name} withBorder padding="sm" radius="md" aria-label={`Level ${name}`} component="section">
            <Group justify="space-between" wrap="nowrap" mb={4}>
              <Group gap="xs">
                <Text fw={700}>{name}</Text>
                {name === defaultLevel && <Badge size="sm" variant="light">Default</Badge>}
                {name === highLevel && <Badge size="sm" variant="light" color="orange">Step-up</Badge>}
              </Group>
              {!f.readOnly && (
                <Tooltip label="The default and step-up levels cannot be removed; choose other ones first." disabled={name !== defaultLevel && name !== highLevel}>
                  <Button
                    variant="subtle"
                    color="red"
                    size="compact-sm"
                    aria-label={`Remove level ${name}`}
                    disabled={name === defaultLevel || name === highLevel}
                    onClick={() => { const next = { ...levels }; delete next[name]; setLevels(next); }}
                  >
                    Remove level
                  </Button>
                </Tooltip>
              )}
            </Group>
            <TextInput
              label="Description"
              aria-label={`Description of level ${name}`}
              value={typeof level?.description === 'string' ? level.description : ''}
              onChange={(e) => setLevel(name, { ...level, description: e.currentTarget.value })}
              error={f.errorAt(`verification.levels.${name}.description`) ?? f.errorAt(`verification.levels.${name}`)}
              disabled={f.readOnly}
              maxLength={200}
              mb="xs"
            />
            <Text size="xs" c="dimmed" mb={6}>Satisfied by any one of these options:</Text>
            <Stack gap={6}>
              {f.errorAt(`verification.levels.${name}.anyOf`) && <Input.Error>{f.errorAt(`verification.levels.${name}.anyOf`)}</Input.Error>}
              {anyOf.map((alt, i) => (
                <Stack key={i} gap={2}>
                  <Group gap={6} wrap="wrap" align="center">
                    <Text size="sm" fw={600} w={72}>Option {i + 1}</Text>
                    {(Array.isArray(alt) ? alt : []).map((req, j) => (
                      <Group key={j} gap={2} wrap="nowrap">
                        {j > 0 && <Text size="sm" c="dimmed" mx={2}>+</Text>}
                        <NativeSelect
                          size="xs"
                          aria-label={`Level ${name}, option ${i + 1}, requirement ${j + 1}`}
                          data={requirementOptions}
                          value={req}
                          onChange={(e) => setAnyOf(anyOf.map((a, ai) => (ai === i ? a.map((r, rj) => (rj === j ? (e.currentTarget.value as Requirement) : r)) : a)))}
                          disabled={f.readOnly}
                        />
                        {!f.readOnly && alt.length > 1 && (
                          <Tooltip label="Remove this requirement">
                            <ActionIcon variant="subtle" color="gray" size="sm" aria-label={`Remove requirement ${j + 1} of option ${i + 1} of level ${name}`} onClick={() => setAnyOf(anyOf.map((a, ai) => (ai === i ? a.filter((_, rj) => rj !== j) : a)))}>
                              ×
                            </ActionIcon>
                          </Tooltip>
                        )}
                      </Group>
                    ))}
                    {!f.readOnly && (
                      <>
                        {alt.length < 4 && (
                          <Button variant="subtle" size="compact-xs" onClick={() => setAnyOf(anyOf.map((a, ai) => (ai === i ? [...a, 'knowledge'] : a)))} aria-label={`Add a requirement to option ${i + 1} of level ${name}`}>
                            + requirement
                          </Button>
                        )}
                        {anyOf.length > 1 && (
                          <Button variant="subtle" color="red" size="compact-xs" onClick={() => setAnyOf(anyOf.filter((_, ai) => ai !== i))} aria-label={`Remove option ${i + 1} of level ${name}`}>
                            Remove option
                          </Button>
                        )}
                      </>
                    )}
                  </Group>
                  {f.errorAt(`verification.levels.${name}.anyOf.${i}`) && <Input.Error>{f.errorAt(`verification.levels.${name}.anyOf.${i}`)}</Input.Error>}
                </Stack>
              ))}
              {!f.readOnly && anyOf.length < 8 && (
                <Group>
                  <Button variant="light" size="compact-sm" onClick={() => setAnyOf([...anyOf, ['possession']])}>Add an option</Button>
                </Group>
              )}
            </Stack>
          </Card>
        );
      })}
      {!f.readOnly && (
        <Group align="flex-end">
          <TextInput label="New level name" placeholder="e.g. payments" value={newName} onChange={(e) => setNewName(e.currentTarget.value)} error={nameError} w={260} onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } }} />
          <Button variant="default" onClick={add}>Add level</Button>
        </Group>
      )}
    </Stack>
  );
}
