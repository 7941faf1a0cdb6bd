/** The whole policy as JSON, for settings faster typed than clicked; edits the same draft as the form. */
import { Alert, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState } from 'react';
import { usePolicyForm } from './form';
import type { PolicyDoc } from './policy-api';

export function JsonEditor({ onValidity }: { onValidity(ok: boolean): void }) {
  const f = usePolicyForm();
  const [text, setText] = useState(() => JSON.stringify(f.draft, null, 2));
  const [parseError, setParseError] = useState<string | null>(null);
  // it starts from the (valid) draft each time it is shown
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => onValidity(true), []);

  const change = (t: string) => {
    setText(t);
    try {
      const v: unknown = JSON.parse(t);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('The policy must be a JSON object ({ ... }).');
      setParseError(null);
      onValidity(true);
      f.set([], v as PolicyDoc);
    } catch (e) {
      setParseError(e instanceof SyntaxError ? `This is not valid JSON yet: ${e.message}` : (e as Error).message);
      onValidity(false);
    }
  };

  return (
    <Stack gap="xs">
      <Text size="sm" c="dimmed">
        The same settings as the form, as one JSON document (see the policy reference in docs/policy.md). Changes here show in the form and are checked by the server when you review them.
      </Text>
      {f.issues.length > 0 && <Alert color="red" variant="light" title="The server refused some settings">See the list above; the paths name the settings.</Alert>}
      <Textarea
        label="Policy document (JSON)"
        value={text}
        onChange={(e) => change(e.currentTarget.value)}
        autosize
        minRows={16}
        maxRows={28}
        spellCheck={false}
        readOnly={f.readOnly}
        error={parseError}
        styles={{ input: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 13 } }}
      />
    </Stack>
  );
}
