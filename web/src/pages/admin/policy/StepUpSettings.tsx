/**
 * Sensitive actions (policy `stepUp`): for revealing a masked customer detail, approving a factor
 * reset and changing this policy, what the session must have proven first: a sign-in level, a
 * phishing-resistant method (a security key or passkey) and an authentication at most N minutes
 * old. Unmet, the console asks the person to confirm with what is missing, then goes on.
 */
import { Fieldset, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { NumberField, SwitchField, usePolicyForm } from './form';
import { levelWords, stepUpActions, stepUpSummary, type StepUpAction } from './step-up-policy';

function ActionFields({ action }: { action: StepUpAction }) {
  const f = usePolicyForm();
  const base = ['stepUp', action];
  const aal = f.get([...base, 'aal']);
  return (
    <Fieldset legend={stepUpActions[action].label} variant="filled" radius="md">
      <Text size="sm" c="dimmed" mb="xs">{stepUpActions[action].explain}</Text>
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md">
        <Select
          label="Sign-in level"
          data={Object.entries(levelWords).map(([value, w]) => ({ value, label: w.label }))}
          value={aal === 1 || aal === 2 || aal === 3 ? String(aal) : null}
          onChange={(v) => v && f.set([...base, 'aal'], Number(v))}
          allowDeselect={false}
          disabled={f.readOnly}
          error={f.errorAt(`stepUp.${action}.aal`)}
          description={levelWords[String(aal)]?.explain}
        />
        <NumberField
          path={`stepUp.${action}.maxAgeMinutes`}
          label="Signed in within (minutes)"
          description="Empty: a sign-in of any age."
          min={1}
          max={1440}
          nullable
          placeholder="Any age"
        />
        <Stack justify="center">
          <SwitchField
            path={`stepUp.${action}.phishingResistant`}
            label="Phishing-resistant method"
            description="Only a security key or passkey used in this sign-in counts."
          />
        </Stack>
      </SimpleGrid>
      <Text size="sm" mt="sm" data-testid={`step-up-summary-${action}`}>{stepUpSummary(f.get(base))}</Text>
    </Fieldset>
  );
}

export function StepUpSettings() {
  return (
    <Stack gap="md">
      <Stack gap={6}>
        <Title order={4}>Confirmation before sensitive actions</Title>
        <Text size="sm" c="dimmed">
          When someone’s sign-in does not meet what an action asks for, the console asks them to confirm it’s them with the method needed (for example their
          security key) and then goes on. Someone with no such method is told to add one on their security page.
        </Text>
      </Stack>
      {(Object.keys(stepUpActions) as StepUpAction[]).map((a) => <ActionFields key={a} action={a} />)}
    </Stack>
  );
}
