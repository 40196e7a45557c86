// The settings the extension reads and the `hfLsp` section it hands to the server.
//
// Server settings default to `null` in package.json: the server owns the defaults, so the
// client strips every null before answering `workspace/configuration` and sends only what
// the user set. The token never lives in settings: it comes from SecretStorage.

export const SECTION = 'hfLsp';
export const TOKEN_SECRET = 'hfLsp.apiToken';

/** Settings only the extension reads; the server never sees them. */
export const CLIENT_KEYS = ['serverPath', 'pythonPath', 'autoSuggest', 'logLevel', 'trace'] as const;

export type LogLevel = 'warning' | 'info' | 'debug';

export interface ClientSettings {
  serverPath: string | null;
  pythonPath: string | null;
  autoSuggest: boolean;
  logLevel: LogLevel;
}

/** What `workspace.getConfiguration(SECTION)` offers; a fake in the unit tests. */
export interface ConfigurationLike {
  get<T>(key: string): T | undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A deep copy without nulls, undefineds and objects left empty by that. */
export function stripNulls(value: unknown): Json | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (Array.isArray(value)) {
    return value.map((item) => stripNulls(item) ?? null);
  }
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const kept = stripNulls(item);
      if (kept !== undefined) {
        out[key] = kept;
      }
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return undefined;
  }
  return value as Json;
}

/**
 * The `hfLsp` object the server gets: what the user set, minus the client's own keys and any
 * `apiToken` written into settings.json, plus the token from SecretStorage.
 */
export function serverSection(raw: unknown, token: string | undefined): Record<string, Json> {
  const section: Record<string, Json> = {};
  const stripped = stripNulls(raw);
  if (stripped !== undefined && stripped !== null && typeof stripped === 'object' && !Array.isArray(stripped)) {
    for (const [key, value] of Object.entries(stripped)) {
      if (!(CLIENT_KEYS as readonly string[]).includes(key) && key !== 'apiToken') {
        section[key] = value;
      }
    }
  }
  if (token) {
    section.apiToken = token;
  }
  return section;
}

/** True when settings.json holds a token, which the extension ignores. */
export function hasTokenInSettings(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && typeof (raw as { apiToken?: unknown }).apiToken === 'string';
}

/** Answer each item of a `workspace/configuration` request: our section is rewritten. */
export function answerConfiguration(
  items: ReadonlyArray<{ section?: string | null }>,
  answers: unknown[],
  token: string | undefined,
): unknown[] {
  return answers.map((answer, i) => (items[i]?.section === SECTION ? serverSection(answer, token) : answer));
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

export function readClientSettings(config: ConfigurationLike): ClientSettings {
  const level = config.get<string>('logLevel');
  return {
    serverPath: text(config.get('serverPath')),
    pythonPath: text(config.get('pythonPath')),
    autoSuggest: config.get<boolean>('autoSuggest') !== false,
    logLevel: level === 'warning' || level === 'debug' ? level : 'info',
  };
}

/** hf-lsp's own arguments for a log level (the language client appends `--stdio`). */
export function logArgs(level: LogLevel): string[] {
  return level === 'warning' ? ['-q'] : level === 'debug' ? ['-vv'] : [];
}

/** With automatic suggestions off, only an explicit trigger (Alt+\, the command) asks. */
export function suppressed(autoSuggest: boolean, automatic: boolean): boolean {
  return automatic && !autoSuggest;
}
