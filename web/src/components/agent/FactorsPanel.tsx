/** What the level needs, what is done and what is missing, and which methods this customer has. */
import { Badge, Card, Group, List, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import type { VerificationView } from './types';
import { levelWords, methodWords, requirementWords } from './words';

export function FactorsPanel({ view }: { view: VerificationView }) {
  const alts = view.status.alternatives;
  const raised = view.level !== view.requestedLevel;
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="factors-heading">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={3} size="h4" id="factors-heading">Factors</Title>
        <Badge variant="light" color={view.status.satisfied ? 'green' : 'indigo'} size="lg" tt="none" data-testid="required-level">
          Level: {levelWords(view.level)}
        </Badge>
      </Group>
      {raised && (
        <Text size="sm" c="orange.8" mb="xs">Raised from {levelWords(view.requestedLevel)} because of the risk score.</Text>
      )}
      <Stack gap="sm">
        <div>
          <Text size="sm" fw={600} mb={4}>{view.status.satisfied ? 'Satisfied' : alts.length > 1 ? 'Needs one of these' : 'Needs'}</Text>
          <Stack gap={6}>
            {alts.map((a, i) => (
              <div key={i} aria-label={`Option ${i + 1}`}>
                {alts.length > 1 && <Text size="xs" c="dimmed" tt="uppercase" fw={700}>Option {i + 1}{a.missing.length === 0 ? ' · met' : ''}</Text>}
                <List spacing={2} size="sm" listStyleType="none" pl={0}>
                  {a.requirements.map((r, j) => {
                    const met = a.met.filter((x) => x === r).length > a.requirements.slice(0, j).filter((x) => x === r).length;
                    return (
                      <List.Item key={j} icon={<ThemeIcon size={18} radius="xl" color={met ? 'green' : 'gray'} variant={met ? 'filled' : 'light'} aria-hidden>{met ? '✓' : '•'}</ThemeIcon>}>
                        <Text span size="sm" c={met ? undefined : 'dimmed'}>{requirementWords(r)}</Text>
                        <Text span size="xs" c={met ? 'green.8' : view.status.satisfied ? 'dimmed' : 'orange.8'} ml={6} fw={600}>{met ? 'satisfied' : view.status.satisfied ? 'not needed' : 'missing'}</Text>
                      </List.Item>
                    );
                  })}
                </List>
              </div>
            ))}
          </Stack>
        </div>
        <div>
          <Text size="sm" fw={600} mb={4}>Completed</Text>
          {view.completedMethods.length === 0 ? (
            <Text size="sm" c="dimmed">Nothing yet.</Text>
          ) : (
            <Group gap={6} data-testid="completed-methods">
              {view.completedMethods.map((m) => <Badge key={m} color="green" variant="light" tt="none">✓ {methodWords[m]}</Badge>)}
            </Group>
          )}
        </div>
        {view.state === 'pending' && (
          <div>
            <Text size="sm" fw={600} mb={4}>Available for this customer</Text>
            {view.available.length === 0 ? (
              <Text size="sm" c="dimmed">No method is set up. The caller cannot be verified here.</Text>
            ) : (
              <Group gap={6}>
                {view.available.map((m) => (
                  <Badge key={m.method} variant="outline" color={view.completedMethods.includes(m.method) ? 'green' : 'gray'} tt="none">{methodWords[m.method]}</Badge>
                ))}
              </Group>
            )}
          </div>
        )}
      </Stack>
    </Card>
  );
}
