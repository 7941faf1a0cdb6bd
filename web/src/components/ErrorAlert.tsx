import { Alert } from '@mantine/core';
import { errorWords } from '../lib/errors';

/** An error in words, announced to screen readers. Renders nothing when there is no error. */
export function ErrorAlert({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" title={title} role="alert" mb="sm">
      {typeof error === 'string' ? error : errorWords(error)}
    </Alert>
  );
}
