// How to start hf-lsp: a configured executable, a configured or detected Python with hf-lsp
// installed (`python -m hf_lsp`), or `hf-lsp` on PATH. No `vscode` import: unit tested.

import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { logArgs, type ClientSettings } from './settings';

export const INSTALL = 'pip install hf-lsp';
export const INSTALL_FROM_CHECKOUT = 'pip install .';

export interface Launch {
  command: string;
  args: string[];
  /** Where the command came from, for the log. */
  origin: string;
}

export type Resolution = { ok: true; launch: Launch } | { ok: false; message: string; install: string };

/** The checks `resolveLaunch` makes on the machine; fakes in the unit tests. */
export interface Probe {
  isExecutable(file: string): Promise<boolean>;
  /** Whether `python -c "import hf_lsp"` succeeds. */
  hasHfLsp(python: string): Promise<boolean>;
  which(name: string): Promise<string | null>;
}

export interface Candidates {
  /** The Python extension's interpreter or `python.defaultInterpreterPath`, if any. */
  editorPythons: string[];
  workspaceFolders: string[];
  platform: NodeJS.Platform;
}

export function venvPythons(folder: string, platform: NodeJS.Platform): string[] {
  const names = ['.venv', 'venv', '.env', 'env'];
  return names.map((name) =>
    platform === 'win32' ? path.join(folder, name, 'Scripts', 'python.exe') : path.join(folder, name, 'bin', 'python'),
  );
}

function pipFor(python: string): string {
  return `"${python}" -m pip install hf-lsp`;
}

export async function resolveLaunch(settings: ClientSettings, candidates: Candidates, probe: Probe): Promise<Resolution> {
  const args = logArgs(settings.logLevel);
  if (settings.serverPath !== null) {
    if (await probe.isExecutable(settings.serverPath)) {
      return { ok: true, launch: { command: settings.serverPath, args, origin: 'hfLsp.serverPath' } };
    }
    return {
      ok: false,
      message: `hfLsp.serverPath is "${settings.serverPath}", which is not an executable file. Fix the setting, or clear it and install hf-lsp: ${INSTALL}`,
      install: INSTALL,
    };
  }
  const module = ['-m', 'hf_lsp', ...args];
  if (settings.pythonPath !== null) {
    if (await probe.hasHfLsp(settings.pythonPath)) {
      return { ok: true, launch: { command: settings.pythonPath, args: module, origin: 'hfLsp.pythonPath' } };
    }
    return {
      ok: false,
      message: `hf-lsp is not installed for the Python in hfLsp.pythonPath (${settings.pythonPath}). Install it: ${pipFor(settings.pythonPath)} (or ${INSTALL_FROM_CHECKOUT} in a checkout of hf-lsp).`,
      install: pipFor(settings.pythonPath),
    };
  }
  const detected = [
    ...candidates.editorPythons.map((python) => ({ python, origin: 'the Python extension' })),
    ...candidates.workspaceFolders.flatMap((folder) =>
      venvPythons(folder, candidates.platform).map((python) => ({ python, origin: 'the workspace environment' })),
    ),
  ];
  for (const { python, origin } of detected) {
    if ((await probe.isExecutable(python)) && (await probe.hasHfLsp(python))) {
      return { ok: true, launch: { command: python, args: module, origin } };
    }
  }
  const onPath = await probe.which(candidates.platform === 'win32' ? 'hf-lsp.exe' : 'hf-lsp');
  if (onPath !== null) {
    return { ok: true, launch: { command: onPath, args, origin: 'PATH' } };
  }
  for (const name of candidates.platform === 'win32' ? ['python.exe', 'py.exe'] : ['python3', 'python']) {
    const python = await probe.which(name);
    if (python !== null && (await probe.hasHfLsp(python))) {
      return { ok: true, launch: { command: python, args: module, origin: 'PATH' } };
    }
  }
  const first = detected[0]?.python;
  const install = first !== undefined ? pipFor(first) : INSTALL;
  return {
    ok: false,
    message:
      `hf-lsp was not found. Install it: ${install} (or ${INSTALL_FROM_CHECKOUT} in a checkout of hf-lsp), ` +
      'or point hfLsp.serverPath at the hf-lsp executable or hfLsp.pythonPath at a Python that has it.',
    install,
  };
}

/** The real checks, on this machine. */
export const machineProbe: Probe = {
  async isExecutable(file) {
    try {
      const stat = await fs.stat(file);
      await fs.access(file, constants.X_OK);
      return stat.isFile();
    } catch {
      return false;
    }
  },
  hasHfLsp(python) {
    return new Promise((resolve) => {
      execFile(python, ['-c', 'import hf_lsp'], { timeout: 15000, windowsHide: true }, (error) => resolve(error === null));
    });
  },
  async which(name) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (dir !== '' && (await machineProbe.isExecutable(path.join(dir, name)))) {
        return path.join(dir, name);
      }
    }
    return null;
  },
};
