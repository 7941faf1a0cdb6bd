/** Security question: ask for the question to put to the caller, then type their answer. */
import { Button, Paper, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { ErrorAlert } from '../ErrorAlert';
import { api } from '../../lib/api';
import { StepEntry } from './StepEntry';
import type { VerificationView } from './types';
import { endsFlow, stepErrorWords } from './words';

interface Asked {
  questionId: string;
  question: string;
  fallback: boolean;
}

export function QuestionStep({ base, onView, onEnded, alone }: { base: string; onView(v: VerificationView): void; onEnded(): void; alone: boolean }) {
  const [asked, setAsked] = useState<Asked>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [refused, setRefused] = useState<string>();

  const ask = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setAsked(await api.post<Asked>(`${base}/question`));
      setRefused(undefined);
      requestAnimationFrame(() => document.getElementById('answer-entry')?.focus());
    } catch (e) {
      setError(stepErrorWords(e));
      if (endsFlow(e)) onEnded();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack gap="md">
      {alone && <Text size="sm" c="dimmed">A security question counts only together with the PIN; it never verifies a caller on its own.</Text>}
      {!asked && refused && <ErrorAlert error={refused} title="Not accepted" />}
      {!asked ? (
        <div>
          <Button onClick={ask} loading={busy} variant={refused ? 'default' : 'filled'}>{refused ? 'Ask another question' : 'Ask a question'}</Button>
          {refused && <Text size="sm" c="dimmed" mt={6}>After a wrong answer, a different question is asked.</Text>}
        </div>
      ) : (
        <>
          <Paper withBorder p="md" bg="var(--mantine-color-indigo-light)" role="status" aria-label="Question to ask">
            <Text size="xs" tt="uppercase" fw={700} c="dimmed">{asked.fallback ? 'Ask this other question' : 'Ask the caller'}</Text>
            <Text size="lg" fw={600}>{asked.question}</Text>
          </Paper>
          <StepEntry
            label="Caller's answer"
            description="Spelling, case and punctuation do not matter."
            submitLabel="Check answer"
            maxLength={200}
            inputId="answer-entry"
            check={(answer) => api.post<VerificationView>(`${base}/question/answer`, { answer })}
            onView={onView}
            onEnded={onEnded}
            onRefused={(words) => {
              setAsked(undefined);
              setRefused(words);
            }}
          />
        </>
      )}
      {error && <ErrorAlert error={error} title="No question to ask" />}
    </Stack>
  );
}
