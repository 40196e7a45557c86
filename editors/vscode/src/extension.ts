// Entry point: wires the client, the status bar and the commands together.

import * as vscode from 'vscode';
import { HfLspClient } from './client';
import { clearToken, setToken, showStatus, toggleAutoSuggest } from './commands';
import { TOKEN_SECRET } from './settings';
import { StatusBar } from './status';

let client: HfLspClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const status = new StatusBar();
  client = new HfLspClient(context.secrets, status, context.logUri.fsPath);
  const hf = client;
  const command = (name: string, run: () => unknown) => vscode.commands.registerCommand(`hfLsp.${name}`, run);
  context.subscriptions.push(
    status,
    hf,
    command('setToken', () => setToken(context.secrets)),
    command('clearToken', () => clearToken(context.secrets)),
    command('toggleAutoSuggest', toggleAutoSuggest),
    command('triggerSuggestion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
    command('showStatus', () => showStatus(hf)),
    command('showLog', () => hf.output.show(true)),
    command('restart', () => hf.restart()),
    context.secrets.onDidChange((e) => (e.key === TOKEN_SECRET ? hf.restart() : undefined)),
    vscode.workspace.onDidChangeConfiguration((e) => hf.configurationChanged(e)),
  );
  await hf.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
