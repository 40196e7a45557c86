import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputChannel } from 'vscode';
import { redact, redactingChannel } from '../src/redact';

const token = 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345';

test('known secrets, HF-shaped tokens and bearer values are hidden', () => {
  assert.equal(redact(`token ${token} end`, []), 'token hf_*** end');
  assert.equal(redact('key=s3cr3t-value!', ['s3cr3t-value']), 'key=***!');
  assert.equal(redact('Authorization: Bearer abc.def', []), 'Authorization: Bearer ***');
  assert.equal(redact('hf_lsp.server started', []), 'hf_lsp.server started');
});

test('every string written to the channel is redacted', () => {
  const lines: string[] = [];
  const channel = {
    name: 'x',
    append: (s: string) => lines.push(s),
    appendLine: (s: string) => lines.push(s),
    show: () => lines.push('shown'),
  } as unknown as OutputChannel;
  const safe = redactingChannel(channel, () => ['plainsecret']);
  safe.appendLine(`{"initializationOptions":{"apiToken":"${token}"}}`);
  safe.append('plainsecret here');
  safe.show();
  assert.equal(safe.name, 'x');
  assert.deepEqual(lines, ['{"initializationOptions":{"apiToken":"hf_***"}}', '*** here', 'shown']);
});
