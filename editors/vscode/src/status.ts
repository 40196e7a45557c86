// The status bar item (idle / generating / rate limited / error) and the text of
// "hf-lsp: Show status".

import * as vscode from 'vscode';

/** What `hfLsp/status` returns; every field is optional to survive older or newer servers. */
export interface Figures {
  version?: string;
  backend?: string;
  endpoint?: string | null;
  model?: string;
  requests?: number;
  backendCalls?: number;
  cacheHits?: number;
  errors?: number;
  lastError?: string | null;
  lastLatencyMs?: number | null;
  latencyP50Ms?: number | null;
  lastMaxNewTokens?: number | null;
  tokenSource?: string;
  /** Tokens in/out for the session, and the cost where the price is known (one line). */
  spend?: string;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number | null;
  /** "rate limited, retrying in N s" while the server's backoff lasts, else null. */
  rateLimited?: string | null;
  dropped?: number;
  slowRequests?: number;
  /** The Inference Provider in use and its route; null when not through the router. */
  provider?: Provider | null;
}

export interface Provider {
  name?: string;
  /** `raw` (completions), `hf-inference` (the serverless body) or `chat`. */
  kind?: string;
  /** The model as the request names it (the provider's id, or `<id>:<provider>`). */
  model?: string;
  url?: string;
}

const ROUTE_WORDS: Record<string, string> = {
  raw: 'fill-in-the-middle',
  'hf-inference': 'serverless API',
  chat: 'chat',
};

/**
 * "provider: featherless-ai (fill-in-the-middle, model featherless/qwen-coder-7b)", or ''
 * when no provider is in use (not through the router, or before the first request).
 * `withUrl` adds the route's URL, for "Show status".
 */
export function describeProvider(f: Figures, withUrl = false): string {
  const p = f.provider;
  if (p === undefined || p === null || !p.name) {
    return '';
  }
  const route = p.kind ? (ROUTE_WORDS[p.kind] ?? p.kind) : '';
  const parts = [route, p.model ? `model ${p.model}` : ''].filter((part) => part);
  const url = withUrl && p.url ? `, POST ${p.url}` : '';
  return `provider: ${p.name}${parts.length ? ` (${parts.join(', ')})` : ''}${url}`;
}

/** "last answer 812 ms (p50 640 ms)", or '' before any answer. */
export function describeLatency(f: Figures): string {
  if (f.lastLatencyMs === undefined || f.lastLatencyMs === null) {
    return '';
  }
  const p50 = f.latencyP50Ms === undefined || f.latencyP50Ms === null ? '' : ` (p50 ${Math.round(f.latencyP50Ms)} ms)`;
  return `last answer ${Math.round(f.lastLatencyMs)} ms${p50}`;
}

function plural(n: number | undefined, word: string): string {
  const count = n ?? 0;
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** One line for a notification, and the details below it. */
export function describeStatus(f: Figures): { summary: string; details: string[] } {
  const summary =
    `hf-lsp ${f.version ?? ''}`.trim() +
    `: ${plural(f.requests, 'request')}, ${plural(f.cacheHits, 'cache hit')}, ` +
    `${plural(f.backendCalls, 'API call')}, ${plural(f.errors, 'error')}`;
  const details = [
    `model: ${f.model ?? 'unknown'}`,
    `endpoint: ${f.endpoint ?? 'unknown'}`,
    `token: ${f.tokenSource ?? 'unknown'}`,
  ];
  const provider = describeProvider(f, true);
  if (provider) {
    details.splice(1, 0, provider);
  }
  if (f.spend) {
    details.push(`tokens: ${f.spend}`);
  }
  if (f.lastLatencyMs !== undefined && f.lastLatencyMs !== null) {
    details.push(`last answer: ${Math.round(f.lastLatencyMs)} ms`);
  }
  if (f.rateLimited) {
    details.push(f.rateLimited);
  }
  if (f.dropped) {
    details.push(`automatic requests dropped by a limit: ${f.dropped}`);
  }
  if (f.lastError) {
    details.push(`last error: ${f.lastError}`);
  }
  return { summary, details };
}

export type State = 'starting' | 'idle' | 'generating' | 'limited' | 'error' | 'stopped';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private inFlight = 0;
  state: State = 'starting';
  detail = '';
  autoSuggest = true;
  model = '';
  /** The Inference Provider in use (`describeProvider`), shown in the tooltip. */
  provider = '';
  spend = '';
  /** The answer times the server reports (`describeLatency`), shown in the tooltip. */
  latency = '';

  constructor() {
    this.item = vscode.window.createStatusBarItem('hfLsp.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'hf-lsp';
    this.item.command = 'hfLsp.showStatus';
    this.render();
    this.item.show();
  }

  /** A request started; returns the function that marks it done. */
  begin(): () => void {
    this.inFlight += 1;
    this.set('generating');
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.inFlight -= 1;
        if (this.inFlight === 0 && this.state === 'generating') {
          this.set('idle');
        }
      }
    };
  }

  set(state: State, detail = ''): void {
    if (state === 'generating' || this.inFlight === 0 || state === 'limited' || state === 'error' || state === 'stopped') {
      this.state = state;
      this.detail = detail;
    }
    this.render();
  }

  private render(): void {
    const icon = {
      starting: '$(loading~spin)',
      idle: this.autoSuggest ? '$(sparkle)' : '$(eye-closed)',
      generating: '$(loading~spin)',
      limited: '$(watch)',
      error: '$(error)',
      stopped: '$(debug-disconnect)',
    }[this.state];
    this.item.text = `${icon} hf-lsp`;
    const words = {
      starting: 'starting',
      idle: 'idle',
      generating: 'generating a suggestion…',
      limited: 'waiting',
      error: 'error',
      stopped: 'stopped',
    }[this.state];
    const lines = [`hf-lsp: ${words}${this.detail ? ` — ${this.detail}` : ''}`];
    if (this.model) {
      lines.push(`model: ${this.model}`);
    }
    if (this.provider) {
      lines.push(this.provider);
    }
    if (this.latency) {
      lines.push(this.latency);
    }
    if (this.spend) {
      lines.push(`tokens: ${this.spend}`);
    }
    lines.push(`automatic suggestions: ${this.autoSuggest ? 'on' : 'off (Alt+\\ or "hf-lsp: Trigger Suggestion")'}`);
    lines.push('click for status');
    this.item.tooltip = lines.join('\n');
    this.item.accessibilityInformation = { label: lines[0]!, role: 'button' };
    this.item.backgroundColor =
      this.state === 'error' || this.state === 'stopped' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
