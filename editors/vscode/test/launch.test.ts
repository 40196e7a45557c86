import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLaunch, type Candidates, type Probe } from '../src/launch';
import type { ClientSettings } from '../src/settings';

function probe(executables: string[], withHfLsp: string[], path: Record<string, string> = {}): Probe {
  return {
    isExecutable: async (file) => executables.includes(file),
    hasHfLsp: async (python) => withHfLsp.includes(python),
    which: async (name) => path[name] ?? null,
  };
}

const none: ClientSettings = { serverPath: null, pythonPath: null, autoSuggest: true, logLevel: 'info' };
const where: Candidates = { editorPythons: [], workspaceFolders: ['/ws'], platform: 'linux' };

test('hfLsp.serverPath is used as it is, with the log flags', async () => {
  const r = await resolveLaunch({ ...none, serverPath: '/opt/hf-lsp', logLevel: 'debug' }, where, probe(['/opt/hf-lsp'], []));
  assert.deepEqual(r, { ok: true, launch: { command: '/opt/hf-lsp', args: ['-vv'], origin: 'hfLsp.serverPath' } });
});

test('a serverPath that is not executable is an error naming it, not a silent fallback', async () => {
  const r = await resolveLaunch({ ...none, serverPath: '/nope' }, where, probe([], [], { 'hf-lsp': '/usr/bin/hf-lsp' }));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /hfLsp\.serverPath is "\/nope"/);
  assert.match(r.ok ? '' : r.message, /pip install hf-lsp/);
});

test('hfLsp.pythonPath runs python -m hf_lsp, or says how to install it there', async () => {
  const ok = await resolveLaunch({ ...none, pythonPath: '/py' }, where, probe(['/py'], ['/py']));
  assert.deepEqual(ok, { ok: true, launch: { command: '/py', args: ['-m', 'hf_lsp'], origin: 'hfLsp.pythonPath' } });
  const missing = await resolveLaunch({ ...none, pythonPath: '/py' }, where, probe(['/py'], []));
  assert.deepEqual(missing.ok ? null : missing.install, '"/py" -m pip install hf-lsp');
});

test('detection order: editor Python, workspace venv, hf-lsp on PATH, python3 on PATH', async () => {
  const venv = '/ws/.venv/bin/python';
  const all = probe(['/ext/python', venv], ['/ext/python', venv, '/usr/bin/python3'], { 'hf-lsp': '/usr/bin/hf-lsp', python3: '/usr/bin/python3' });
  const first = await resolveLaunch(none, { ...where, editorPythons: ['/ext/python'] }, all);
  assert.equal(first.ok && first.launch.command, '/ext/python');
  const second = await resolveLaunch(none, where, all);
  assert.equal(second.ok && second.launch.command, venv);
  const third = await resolveLaunch(none, where, probe([], [], { 'hf-lsp': '/usr/bin/hf-lsp', python3: '/usr/bin/python3' }));
  assert.deepEqual(third.ok && third.launch, { command: '/usr/bin/hf-lsp', args: [], origin: 'PATH' });
  const fourth = await resolveLaunch(none, where, probe([], ['/usr/bin/python3'], { python3: '/usr/bin/python3' }));
  assert.deepEqual(fourth.ok && fourth.launch.args, ['-m', 'hf_lsp']);
});

test('nothing found: the message gives the install command', async () => {
  const r = await resolveLaunch(none, { ...where, workspaceFolders: [] }, probe([], []));
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.install, 'pip install hf-lsp');
  assert.match(r.ok ? '' : r.message, /pip install \./);
});
