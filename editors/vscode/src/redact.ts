// Keeps the Hugging Face token out of the output channel, whatever writes to it.

import type { OutputChannel } from 'vscode';

const HF_TOKEN = /\bhf_[A-Za-z0-9]{16,}\b/g;
const BEARER = /(Bearer\s+)[^\s"',}]+/gi;
export const HIDDEN = '***';

/** `text` with every known secret, anything shaped like an HF token and bearer values hidden. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) {
      out = out.split(secret).join(HIDDEN);
    }
  }
  return out.replace(HF_TOKEN, `hf_${HIDDEN}`).replace(BEARER, `$1${HIDDEN}`);
}

const WRITERS = new Set(['append', 'appendLine', 'replace', 'trace', 'debug', 'info', 'warn', 'error']);

/** The same channel, with every string written to it redacted first. */
export function redactingChannel<T extends OutputChannel>(channel: T, secrets: () => ReadonlyArray<string | undefined>): T {
  return new Proxy(channel, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') {
        return value;
      }
      if (typeof property === 'string' && WRITERS.has(property)) {
        return (...args: unknown[]) =>
          (value as (...a: unknown[]) => unknown).apply(
            target,
            args.map((arg) => (typeof arg === 'string' ? redact(arg, secrets()) : arg instanceof Error ? redact(String(arg.stack ?? arg), secrets()) : arg)),
          );
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
