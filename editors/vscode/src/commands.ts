// What the palette commands do. The token only ever goes to SecretStorage.

import * as vscode from 'vscode';
import type { HfLspClient } from './client';
import { SECTION, TOKEN_SECRET } from './settings';
import { describeStatus } from './status';

export function checkToken(value: string): string | undefined {
  const token = value.trim();
  if (token === '') {
    return 'Paste a token from huggingface.co/settings/tokens';
  }
  if (/\s/.test(token)) {
    return 'A token has no spaces';
  }
  return undefined;
}

export async function setToken(secrets: vscode.SecretStorage): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: 'Hugging Face token',
    prompt: 'A token from huggingface.co/settings/tokens ("read" is enough). It is kept in the editor\'s secret storage, never in settings.json.',
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: checkToken,
  });
  if (value === undefined) {
    return;
  }
  await secrets.store(TOKEN_SECRET, value.trim()); // the client restarts the server on the change
  void vscode.window.showInformationMessage('hf-lsp: token saved; the server restarts with it.');
}

export async function clearToken(secrets: vscode.SecretStorage): Promise<void> {
  await secrets.delete(TOKEN_SECRET);
  void vscode.window.showInformationMessage(
    'hf-lsp: token cleared; the server now looks for $HF_TOKEN or the file written by huggingface-cli login.',
  );
}

export async function toggleAutoSuggest(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const next = config.get<boolean>('autoSuggest') === false;
  await config.update('autoSuggest', next, vscode.ConfigurationTarget.Global);
  void vscode.window.setStatusBarMessage(`hf-lsp: automatic suggestions ${next ? 'on' : 'off'}`, 3000);
}

export async function showStatus(client: HfLspClient): Promise<void> {
  let figures;
  try {
    figures = await client.figures();
  } catch (error) {
    void vscode.window.showErrorMessage(`hf-lsp: no status: ${String(error)}`);
    return;
  }
  if (figures === undefined) {
    void vscode.window.showWarningMessage('hf-lsp is not running. See "hf-lsp: Show Log".');
    return;
  }
  const { summary, details } = describeStatus(figures);
  client.output.appendLine(`status: ${JSON.stringify(figures)}`);
  const log = 'Show log';
  const token = 'Set token';
  const actions = figures.lastError && /token/i.test(figures.lastError) ? [token, log] : [log];
  const choice = await vscode.window.showInformationMessage(`${summary} (${details.join('; ')})`, ...actions);
  if (choice === log) {
    client.output.show(true);
  } else if (choice === token) {
    await vscode.commands.executeCommand('hfLsp.setToken');
  }
}
