import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  answerConfiguration,
  hasTokenInSettings,
  logArgs,
  readClientSettings,
  serverSection,
  stripNulls,
  suppressed,
} from '../src/settings';

interface Property {
  default?: unknown;
}
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  contributes: { configuration: { title: string; properties: Record<string, Property> }[] };
};
const properties = Object.assign({}, ...manifest.contributes.configuration.map((s) => s.properties)) as Record<string, Property>;

/** What `workspace.getConfiguration().get('hfLsp')` gives: dotted keys nested, defaults filled in. */
function sectionAsVsCodeReadsIt(userSettings: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const values = { ...Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, p.default])), ...userSettings };
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split('.').slice(1);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return root;
}

test('stripNulls drops nulls and objects emptied by that, keeps false, 0, "" and arrays', () => {
  assert.equal(stripNulls(null), undefined);
  assert.deepEqual(stripNulls({ a: null, b: { c: null }, d: false, e: 0, f: '', g: [1, null], h: { i: 2 } }), {
    d: false,
    e: 0,
    f: '',
    g: [1, null],
    h: { i: 2 },
  });
});

test('with nothing set the server is sent nothing: its own defaults apply', () => {
  assert.deepEqual(serverSection(sectionAsVsCodeReadsIt({}), undefined), {});
});

test('user settings arrive nested, with the HF wire names, without client-only keys', () => {
  const raw = sectionAsVsCodeReadsIt({
    'hfLsp.model': 'Qwen/Qwen2.5-Coder-7B',
    'hfLsp.url': 'http://127.0.0.1:9/',
    'hfLsp.parameters.max_new_tokens': 40,
    'hfLsp.parameters.stop': ['\n\n'],
    'hfLsp.options.wait_for_model': true,
    'hfLsp.maxNewTokens.midLine': 12,
    'hfLsp.fim.enabled': false,
    'hfLsp.serverPath': '/opt/hf-lsp',
    'hfLsp.autoSuggest': false,
    'hfLsp.trace.server': 'verbose',
  });
  assert.deepEqual(serverSection(raw, 'hf_secret'), {
    model: 'Qwen/Qwen2.5-Coder-7B',
    url: 'http://127.0.0.1:9/',
    parameters: { max_new_tokens: 40, stop: ['\n\n'] },
    options: { wait_for_model: true },
    maxNewTokens: { midLine: 12 },
    fim: { enabled: false },
    apiToken: 'hf_secret',
  });
});

test('a token typed into settings.json is never forwarded; SecretStorage wins', () => {
  const raw = { model: 'm', apiToken: 'hf_from_settings' };
  assert.ok(hasTokenInSettings(raw));
  assert.deepEqual(serverSection(raw, undefined), { model: 'm' });
  assert.deepEqual(serverSection(raw, 'hf_stored'), { model: 'm', apiToken: 'hf_stored' });
  assert.ok(!hasTokenInSettings({ model: 'm' }));
});

test('only the hfLsp section of a configuration answer is rewritten', () => {
  const answers = answerConfiguration(
    [{ section: 'hfLsp' }, { section: 'editor' }, {}],
    [{ model: null, cache: { size: 3 } }, { tabSize: null }, null],
    'tok',
  );
  assert.deepEqual(answers, [{ cache: { size: 3 }, apiToken: 'tok' }, { tabSize: null }, null]);
});

test('client settings: blank paths are unset, unknown log levels are info', () => {
  const config = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });
  assert.deepEqual(readClientSettings(config({})), { serverPath: null, pythonPath: null, autoSuggest: true, logLevel: 'info' });
  assert.deepEqual(readClientSettings(config({ serverPath: '  ', pythonPath: ' /usr/bin/python3 ', autoSuggest: false, logLevel: 'loud' })), {
    serverPath: null,
    pythonPath: '/usr/bin/python3',
    autoSuggest: false,
    logLevel: 'info',
  });
  assert.deepEqual(logArgs('warning'), ['-q']);
  assert.deepEqual(logArgs('info'), []);
  assert.deepEqual(logArgs('debug'), ['-vv']);
});

test('automatic suggestions off: typing asks nothing, an explicit trigger still does', () => {
  assert.equal(suppressed(true, true), false);
  assert.equal(suppressed(false, true), true);
  assert.equal(suppressed(false, false), false);
});

test('every server setting in package.json defaults to null and has a scope and a description', () => {
  const editor = new Set(['hfLsp.autoSuggest', 'hfLsp.serverPath', 'hfLsp.pythonPath', 'hfLsp.logLevel', 'hfLsp.trace.server']);
  for (const [key, property] of Object.entries(properties) as [string, Property & { scope?: string; markdownDescription?: string }][]) {
    assert.ok(property.scope, `${key} has no scope`);
    assert.ok(property.markdownDescription, `${key} has no description`);
    if (!editor.has(key)) {
      assert.equal(property.default, null, `${key} must default to null`);
    }
  }
  assert.ok(!('hfLsp.apiToken' in properties), 'the token must not be a setting');
});
