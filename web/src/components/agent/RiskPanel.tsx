/** The explainable risk score: the total, its level, and each signal in words with its points. */
import { Badge, Card, Group, Progress, Stack, Text, Title } from '@mantine/core';
import type { Risk } from './types';
import { riskColor, sentence, signalTitles } from './words';

export function RiskPanel({ risk }: { risk: Risk }) {
  const color = riskColor[risk.level];
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="risk-heading">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={3} size="h4" id="risk-heading">Risk</Title>
        <Group gap={6} wrap="nowrap">
          <Text fw={700} size="lg" data-testid="risk-score" aria-label={`Risk score ${risk.score} out of 100`}>{risk.score}<Text span size="sm" c="dimmed">/100</Text></Text>
          <Badge color={color} variant="filled" tt="none">{risk.level === 'low' ? 'Low' : risk.level === 'medium' ? 'Medium' : 'High'} risk</Badge>
        </Group>
      </Group>
      <Progress value={risk.score} color={color} size="sm" mb="sm" aria-label="Risk score" />
      <Stack gap={6} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {risk.signals.map((s) => (
          <Group key={s.signal} component="li" justify="space-between" wrap="nowrap" gap="sm" align="flex-start">
            <div>
              <Text size="sm" fw={600}>{signalTitles[s.signal] ?? sentence(s.signal.replace(/_/g, ' '))}</Text>
              <Text size="sm" c="dimmed">{sentence(s.detail)}</Text>
            </div>
            <Badge variant="light" color={s.points === 0 ? 'green' : s.points >= 20 ? 'red' : 'yellow'} style={{ flexShrink: 0 }}>+{s.points}</Badge>
          </Group>
        ))}
      </Stack>
    </Card>
  );
}
