// The language client: finds and starts hf-lsp, answers its settings pulls (nulls stripped,
// token added), feeds the status bar, restarts the server when it crashes.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  ResponseError,
  State,
  TransportKind,
  type LanguageClientOptions,
  type Middleware,
} from 'vscode-languageclient/node';
import { withInstruction } from './instruction';
import { machineProbe, resolveLaunch, type Candidates, type Resolution } from './launch';
import { redactingChannel } from './redact';
import { RestartBudget } from './restarts';
import {
  answerConfiguration,
  hasTokenInSettings,
  readClientSettings,
  SECTION,
  suppressed,
  TOKEN_SECRET,
  type ClientSettings,
} from './settings';
import { describeLatency, describeProvider, type Figures, type StatusBar } from './status';

export const STATUS_REQUEST = 'hfLsp/status';
/** Settings that change how the server is started: a change restarts it. */
const RESTART_KEYS = ['serverPath', 'pythonPath', 'logLevel'];

export class HfLspClient implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  private client: LanguageClient | undefined;
  private token: string | undefined;
  private errorsSeen = 0;
  private readonly budget = new RestartBudget();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly status: StatusBar,
    /** The extension's log folder: the server writes its full log there (`--log-file`). */
    private readonly logDir: string,
  ) {
    this.output = redactingChannel(vscode.window.createOutputChannel('hf-lsp', { log: true }), () => [this.token]);
    this.status.autoSuggest = this.settings().autoSuggest;
  }

  settings(): ClientSettings {
    return readClientSettings(vscode.workspace.getConfiguration(SECTION));
  }

  /** Start, stop and restart run one after the other, never interleaved. */
  private serial(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step);
    return this.queue;
  }

  start(): Promise<void> {
    return this.serial(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      await this.doStop();
      this.budget.reset();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.serial(() => this.doStop());
  }

  private async doStart(): Promise<void> {
    this.token = (await this.secrets.get(TOKEN_SECRET)) || undefined;
    this.status.set('starting');
    if (hasTokenInSettings(vscode.workspace.getConfiguration().get(SECTION))) {
      void vscode.window.showWarningMessage(
        'hf-lsp ignores hfLsp.apiToken in settings.json: remove it, and run "hf-lsp: Set Hugging Face Token" to keep the token in secret storage.',
      );
    }
    const resolution = await resolveLaunch(this.settings(), await candidates(), machineProbe);
    if (!resolution.ok) {
      this.output.appendLine(resolution.message);
      this.status.set('stopped', 'hf-lsp was not found');
      void offerInstall(resolution);
      return;
    }
    const { command, origin } = resolution.launch;
    // the server's records reach this channel through window/logMessage, at their own level;
    // its stderr (shown as errors) then only carries what escapes logging, such as a crash
    const args = [...resolution.launch.args, '--log-file', path.join(this.logDir, 'server.log')];
    this.output.appendLine(`starting ${command} ${args.join(' ')} (found through ${origin})`);
    const client = new LanguageClient(
      'hfLsp',
      'hf-lsp',
      { command, args, transport: TransportKind.stdio, options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } } },
      this.clientOptions(),
    );
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.status.set('idle');
      }
    });
    this.client = client;
    this.errorsSeen = 0;
    try {
      await client.start();
    } catch (error) {
      this.output.appendLine(`hf-lsp did not start: ${String(error)}`);
      this.status.set('stopped', 'the server did not start; see the log');
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.dispose(3000);
      } catch (error) {
        this.output.appendLine(`stopping hf-lsp: ${String(error)}`);
      }
    }
    this.status.set('stopped');
  }

  private clientOptions(): LanguageClientOptions {
    const middleware: Middleware = {
      executeCommand: async (command, args, next) => {
        const prepared = await withInstruction(command, args, (prompt) =>
          vscode.window.showInputBox({ prompt, ignoreFocusOut: true }),
        );
        return prepared === undefined ? undefined : next(command, prepared);
      },
      workspace: {
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          return answers instanceof ResponseError ? answers : answerConfiguration(params.items, answers, this.token);
        },
      },
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        const automatic = context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic;
        if (suppressed(this.settings().autoSuggest, automatic)) {
          return null;
        }
        const done = this.status.begin();
        try {
          const result = await next(document, position, context, token);
          const count = Array.isArray(result) ? result.length : (result?.items.length ?? 0);
          if (count === 0 && !token.isCancellationRequested) {
            await this.checkErrors();
          } else {
            this.status.set('idle');
            void this.checkErrors(false); // the answer's latency and the session's tokens, for the tooltip
          }
          return result;
        } catch (error) {
          if (!token.isCancellationRequested) {
            this.status.set('error', error instanceof Error ? error.message : String(error));
          }
          throw error;
        } finally {
          done();
        }
      },
    };
    return {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      // only the token: everything else is pulled, so a removed setting cannot linger
      initializationOptions: this.token !== undefined ? { apiToken: this.token } : {},
      middleware,
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => {
          if (this.budget.crashed(Date.now())) {
            this.output.appendLine('hf-lsp stopped unexpectedly; restarting it');
            this.status.set('error', 'the server stopped; restarting');
            return { action: CloseAction.Restart, handled: true };
          }
          this.status.set('stopped', 'the server keeps crashing; see the log');
          return {
            action: CloseAction.DoNotRestart,
            message: `hf-lsp stopped ${this.budget.limit + 1} times in 3 minutes and was not restarted. See "hf-lsp: Show Log", then run "hf-lsp: Restart Server".`,
          };
        },
      },
    };
  }

  /** The session's tokens (and cost) in the status tooltip. */
  private showSpend(figures: Figures | undefined): void {
    if (figures?.spend !== undefined && figures.spend !== this.status.spend) {
      this.status.spend = figures.spend;
      this.status.set(this.status.state, this.status.detail);
    }
  }

  /**
   * An empty answer may hide an error the server counted, or a rate limit it is waiting
   * out: show it on the status bar. After any answer: its latency, in the tooltip.
   */
  private async checkErrors(empty = true): Promise<void> {
    const figures = await this.figures().catch(() => undefined);
    if (figures === undefined) {
      return;
    }
    this.status.model = figures.model ?? '';
    this.status.latency = describeLatency(figures);
    this.status.provider = describeProvider(figures);
    this.showSpend(figures);
    const errors = figures.errors ?? 0;
    if (figures.rateLimited) {
      this.errorsSeen = Math.max(this.errorsSeen, errors);
      this.status.set('limited', figures.rateLimited);
      const seconds = Number(/(\d+) s/.exec(figures.rateLimited)?.[1] ?? 0);
      setTimeout(() => {
        if (this.status.state === 'limited' && this.status.detail === figures.rateLimited) {
          this.status.set('idle'); // the backoff is over
        }
      }, seconds * 1000).unref?.();
    } else if (empty && errors > this.errorsSeen) {
      this.errorsSeen = errors;
      this.status.set('error', figures.lastError ?? 'see the log');
    } else if (empty || this.status.state === 'limited') {
      this.status.set('idle');
    } else {
      this.status.set(this.status.state, this.status.detail); // the tooltip's new latency
    }
  }

  async figures(): Promise<Figures | undefined> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      return undefined;
    }
    return client.sendRequest<Figures>(STATUS_REQUEST, {});
  }

  /** Settings changed: restart for a new command line, otherwise let the server pull. */
  async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    this.status.autoSuggest = this.settings().autoSuggest;
    this.status.set(this.status.state, this.status.detail);
    if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
      await this.restart();
    } else if (this.client?.state === State.Running) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    }
  }

  dispose(): void {
    void this.stop();
    this.output.dispose();
  }
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?(): { path?: unknown } | undefined };
}

async function candidates(): Promise<Candidates> {
  const editorPythons: string[] = [];
  const python = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (python !== undefined) {
    try {
      const api = python.isActive ? python.exports : await python.activate();
      const active = api?.environments?.getActiveEnvironmentPath?.()?.path;
      if (typeof active === 'string' && active !== '') {
        editorPythons.push(active);
      }
    } catch {
      // no interpreter from the Python extension: the other places are still tried
    }
  }
  const configured = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (configured && configured !== 'python' && configured !== 'python3') {
    editorPythons.push(configured.replace('${workspaceFolder}', folders[0]?.uri.fsPath ?? ''));
  }
  return { editorPythons, workspaceFolders: folders.map((f) => f.uri.fsPath), platform: process.platform };
}

async function offerInstall(resolution: Resolution & { ok: false }): Promise<void> {
  const copy = 'Copy install command';
  const settings = 'Open settings';
  const choice = await vscode.window.showErrorMessage(resolution.message, copy, settings);
  if (choice === copy) {
    await vscode.env.clipboard.writeText(resolution.install);
  } else if (choice === settings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:hf-lsp.hf-lsp');
  }
}
