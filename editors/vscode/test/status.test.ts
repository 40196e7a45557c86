import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartBudget } from '../src/restarts';
import { describeLatency, describeProvider, describeStatus, StatusBar } from '../src/status';
import { checkToken } from '../src/commands';
import { created } from './vscode';

test('the status summary counts requests, cache hits, API calls and errors', () => {
  const { summary, details } = describeStatus({
    version: '0.1.0',
    model: 'bigcode/starcoder2-15b',
    endpoint: 'http://127.0.0.1:1/models/x',
    requests: 3,
    cacheHits: 1,
    backendCalls: 2,
    errors: 1,
    lastError: '401 Invalid credentials',
    lastLatencyMs: 12.4,
    tokenSource: 'settings',
  });
  assert.equal(summary, 'hf-lsp 0.1.0: 3 requests, 1 cache hit, 2 API calls, 1 error');
  assert.deepEqual(details, [
    'model: bigcode/starcoder2-15b',
    'endpoint: http://127.0.0.1:1/models/x',
    'token: settings',
    'last answer: 12 ms',
    'last error: 401 Invalid credentials',
  ]);
  assert.equal(describeStatus({}).summary, 'hf-lsp: 0 requests, 0 cache hits, 0 API calls, 0 errors');
});

test('the status shows the session\'s tokens and cost', () => {
  const spend = '1,234 in / 56 out tokens, $0.0012';
  assert.ok(describeStatus({ spend }).details.includes(`tokens: ${spend}`));
  assert.ok(!describeStatus({}).details.some((line) => line.startsWith('tokens:')));
  const bar = new StatusBar();
  const item = created.at(-1)!;
  bar.spend = spend;
  bar.set('idle');
  assert.match(String(item.tooltip), /tokens: 1,234 in \/ 56 out tokens, \$0\.0012/);
});

test('the status bar shows generating while any request runs, then idle or the error', () => {
  const bar = new StatusBar();
  const item = created.at(-1)!;
  assert.ok(item.visible);
  assert.equal(item.command, 'hfLsp.showStatus');
  bar.set('idle');
  assert.equal(item.text, '$(sparkle) hf-lsp');
  const first = bar.begin();
  const second = bar.begin();
  assert.equal(item.text, '$(loading~spin) hf-lsp');
  first();
  first(); // twice is once
  assert.equal(bar.state, 'generating');
  second();
  assert.equal(bar.state, 'idle');
  const third = bar.begin();
  bar.set('error', '401 Invalid credentials in Authorization header');
  third();
  assert.equal(item.text, '$(error) hf-lsp');
  assert.match(String(item.tooltip), /error — 401 Invalid credentials/);
  assert.equal((item.backgroundColor as { id: string } | undefined)?.id, 'statusBarItem.errorBackground');
  bar.set('idle');
  assert.equal(item.backgroundColor, undefined);
  bar.autoSuggest = false;
  bar.set('idle');
  assert.equal(item.text, '$(eye-closed) hf-lsp');
  assert.match(String(item.tooltip), /automatic suggestions: off/);
});

test('the tooltip shows the last answer time and its p50; a rate limit is a state of its own', () => {
  assert.equal(describeLatency({}), '');
  assert.equal(describeLatency({ lastLatencyMs: 812.4, latencyP50Ms: 640.2 }), 'last answer 812 ms (p50 640 ms)');
  assert.equal(describeLatency({ lastLatencyMs: 3.2, latencyP50Ms: null }), 'last answer 3 ms');
  const bar = new StatusBar();
  const item = created.at(-1)!;
  bar.latency = describeLatency({ lastLatencyMs: 12034, latencyP50Ms: 9000 });
  bar.set('idle');
  assert.match(String(item.tooltip), /\nlast answer 12034 ms \(p50 9000 ms\)\n/);
  const busy = bar.begin();
  bar.set('limited', 'rate limited, retrying in 8 s'); // shown even while requests run
  assert.equal(item.text, '$(watch) hf-lsp');
  assert.match(String(item.tooltip), /^hf-lsp: waiting — rate limited, retrying in 8 s\n/);
  assert.equal(item.backgroundColor, undefined); // not an error: it passes by itself
  busy();
  const { details } = describeStatus({ rateLimited: 'rate limited, retrying in 8 s', dropped: 3 });
  assert.deepEqual(details.slice(3), ['rate limited, retrying in 8 s', 'automatic requests dropped by a limit: 3']);
});

test('a crashing server is restarted four times in three minutes, then left stopped', () => {
  const budget = new RestartBudget(4, 180_000);
  const verdicts = [0, 1000, 2000, 3000, 4000].map((t) => budget.crashed(t));
  assert.deepEqual(verdicts, [true, true, true, true, false]);
  assert.equal(budget.crashed(200_000), true); // the old crashes have aged out
  budget.reset();
  assert.equal(budget.crashed(200_001), true);
});

test('the token input refuses blanks and spaces', () => {
  assert.match(checkToken('  ') ?? '', /Paste a token/);
  assert.match(checkToken('hf_a b') ?? '', /no spaces/);
  assert.equal(checkToken(' hf_abc '), undefined);
});

test('the tooltip and the status name the Inference Provider in use', () => {
  const provider = {
    name: 'featherless-ai',
    kind: 'raw',
    model: 'featherless/qwen-coder-7b',
    url: 'https://router.huggingface.co/featherless-ai/v1/completions',
  };
  assert.equal(describeProvider({ provider }), 'provider: featherless-ai (fill-in-the-middle, model featherless/qwen-coder-7b)');
  assert.equal(
    describeProvider({ provider: { name: 'nscale', kind: 'chat', model: 'Qwen/Qwen3-Coder:nscale' } }),
    'provider: nscale (chat, model Qwen/Qwen3-Coder:nscale)',
  );
  assert.equal(describeProvider({ provider: null }), '');
  assert.equal(describeProvider({}), '');
  const { details } = describeStatus({ model: 'Qwen/Qwen2.5-Coder-7B', provider });
  assert.equal(
    details[1],
    'provider: featherless-ai (fill-in-the-middle, model featherless/qwen-coder-7b), ' +
      'POST https://router.huggingface.co/featherless-ai/v1/completions',
  );
  assert.ok(!describeStatus({ provider: null }).details.some((line) => line.startsWith('provider:')));
  const bar = new StatusBar();
  const item = created.at(-1)!;
  bar.model = 'Qwen/Qwen2.5-Coder-7B';
  bar.provider = describeProvider({ provider });
  bar.set('idle');
  assert.match(String(item.tooltip), /\nmodel: Qwen\/Qwen2\.5-Coder-7B\nprovider: featherless-ai \(fill-in-the-middle, model featherless\/qwen-coder-7b\)\n/);
});
