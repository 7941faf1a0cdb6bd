/** A sign-in problem in words, with "Start again" when the flow cannot go on and a live wait time. */
import { Alert, Button, Stack, Text } from '@mantine/core';
import { waitWords, type AuthProblem } from './auth-errors';

export function ProblemAlert({ problem, secondsLeft = 0, onRestart, restarting }: { problem: AuthProblem | null; secondsLeft?: number; onRestart?: () => void; restarting?: boolean }) {
  if (!problem) return null;
  const waiting = problem.retryAfterSeconds !== undefined;
  return (
    <Alert color={problem.restart || waiting ? 'orange' : 'red'} variant="light" title={problem.title} role="alert" mb="md">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{problem.message}{waiting && (secondsLeft > 0 ? ` Try again in ${waitWords(secondsLeft)}.` : ' You can try again now.')}</Text>
        {problem.restart && onRestart && (
          <Button size="xs" variant="filled" color="orange" onClick={onRestart} loading={restarting}>Start again</Button>
        )}
      </Stack>
    </Alert>
  );
}
