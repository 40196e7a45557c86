import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsInstruction, RUN_ACTION, withInstruction } from '../src/instruction';

const rewrite = { action: 'rewrite', uri: 'file:///a.py', range: {}, version: 3 };

test('only a rewrite without an instruction asks', () => {
  assert.equal(needsInstruction(RUN_ACTION, [rewrite]), true);
  assert.equal(needsInstruction(RUN_ACTION, [{ ...rewrite, instruction: 'use map' }]), false);
  assert.equal(needsInstruction(RUN_ACTION, [{ ...rewrite, instruction: '  ' }]), true);
  assert.equal(needsInstruction(RUN_ACTION, [{ ...rewrite, action: 'docstring' }]), false);
  assert.equal(needsInstruction('other.command', [rewrite]), false);
  assert.equal(needsInstruction(RUN_ACTION, []), false);
});

test('the answer becomes the instruction; cancelling runs nothing', async () => {
  const asked: string[] = [];
  const args = await withInstruction(RUN_ACTION, [rewrite], async (prompt) => {
    asked.push(prompt);
    return '  use a list comprehension ';
  });
  assert.deepEqual(args, [{ ...rewrite, instruction: 'use a list comprehension' }]);
  assert.equal(asked.length, 1);
  assert.equal(await withInstruction(RUN_ACTION, [rewrite], async () => undefined), undefined);
  assert.equal(await withInstruction(RUN_ACTION, [rewrite], async () => ''), undefined);
});

test('other commands pass through untouched, without asking', async () => {
  const args = await withInstruction(RUN_ACTION, [{ ...rewrite, action: 'fix' }], async () => {
    throw new Error('asked');
  });
  assert.deepEqual(args, [{ ...rewrite, action: 'fix' }]);
});
