// The real-editor test: VS Code (code-server) with the packaged extension, in headless Debian
// chromium driven by playwright-core, against hf-lsp and the loopback fake Inference API.
//
//   node e2e/run.mjs --vsix build/hf-lsp.vsix --python ../../.venv/bin/python \
//       --server ../../.venv/bin/hf-lsp --chromium "$(command -v chromium)" --artifacts DIR
//
// Run it with Node 24 (code-server's requirement); scripts/test-vscode.sh does all of that.
// Every process it starts listens on 127.0.0.1 only and is stopped at the end, pass or fail.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = import.meta.dirname;
const repo = path.resolve(here, '../../..');
const { values: opt } = parseArgs({
  options: {
    vsix: { type: 'string' },
    python: { type: 'string' },
    server: { type: 'string' },
    chromium: { type: 'string' },
    artifacts: { type: 'string', default: path.join(repo, 'test-artifacts', 'vscode') },
    keep: { type: 'boolean', default: false },
  },
});
for (const name of ['vsix', 'python', 'server', 'chromium']) {
  if (!opt[name]) throw new Error(`--${name} is required`);
}
const vsix = path.resolve(opt.vsix);
const serverPath = path.resolve(opt.server);
const codeServer = path.join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

const TOKEN = `hf_${randomBytes(17).toString('hex')}`; // shaped like a real one, so redaction is exercised too
const COMPLETION = 'return a + b\n\n\ndef mul(a, b):\n    return a * b\n';
const BEFORE = 'def add(a, b):\n    ';
const AFTER = 'def add(a, b):\n    return a + b';
const STEP_MS = 60_000;
const started = Date.now();

const work = mkdtempSync(path.join(tmpdir(), 'hf-lsp-vscode-e2e-'));
const dirs = Object.fromEntries(
  ['user-data', 'extensions', 'workspace', 'browser', 'home', 'hf-home'].map((name) => [name, path.join(work, name)]),
);
Object.values(dirs).forEach((dir) => mkdirSync(dir, { recursive: true }));
mkdirSync(opt.artifacts, { recursive: true });

const children = [];
let browser; // a persistent context in a fresh profile directory

let current = 'setting up';
function stage(name) {
  current = name;
  log(`-- ${name}`);
}

function log(message) {
  console.log(`[vscode-e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

/** A child in its own process group, its output kept in the artefacts. */
function start(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...options });
  const out = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => out.push(d));
  child.on('exit', () => writeFileSync(path.join(opt.artifacts, `${name}.log`), Buffer.concat(out)));
  children.push({ name, child });
  return child;
}

function firstMatch(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing matching ${pattern} within ${STEP_MS} ms:\n${seen}`)), STEP_MS);
    const look = (d) => {
      seen += d;
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before printing ${pattern}:\n${seen}`)));
  });
}

async function stopAll() {
  if (browser) await browser.close().catch(() => {});
  for (const { name, child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.stdin.end(); // the fake API stops when its stdin closes
    const gone = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const late = setTimeout(() => {
      log(`${name} ignored SIGTERM; killing it`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await gone;
    clearTimeout(late);
  }
}

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  log(`ok: ${message}`);
}

async function waitFor(what, probe, ms = STEP_MS) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The pids of hf-lsp processes started from our serverPath, under code-server. */
function serverPids() {
  const pids = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes(serverPath) && argv.includes('--stdio') && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(work)) {
        pids.push(Number(pid));
      }
    } catch {}
  }
  return pids;
}

async function main() {
  stage('1. the fake Inference API, accepting only our token');
  const fake = start('fake-hf', opt.python, [
    path.join(repo, 'tests', 'support', 'serve_fake_hf.py'),
    '--completion', COMPLETION,
    '--token', TOKEN,
    '--record', path.join(work, 'requests.json'),
    '--lifetime', '900',
  ]);
  const fakeInfo = JSON.parse((await firstMatch(fake, /^\{.*\}$/m, 'the fake Inference API'))[0]);
  const fakeUrl = fakeInfo.url; // the serverless API's `/models/<id>` URL (a bare base is the router)
  log(`fake Inference API at ${fakeUrl}`);

  stage('2. a clean profile: the extension installed from the .vsix, settings for a quiet editor');
  const env = { ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: path.join(dirs.home, '.config'), XDG_DATA_HOME: path.join(dirs.home, '.local/share'), XDG_CACHE_HOME: path.join(dirs.home, '.cache'), HF_HOME: dirs['hf-home'], HF_E2E_WORKDIR: work };
  delete env.HF_TOKEN;
  delete env.HUGGING_FACE_HUB_TOKEN;
  delete env.HF_TOKEN_PATH;
  const config = path.join(work, 'code-server.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const common = ['--config', config, '--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions];
  const install = spawnSync(process.execPath, [codeServer, ...common, '--install-extension', vsix], { env, encoding: 'utf8', timeout: STEP_MS });
  check(install.status === 0, `code-server --install-extension ${path.basename(vsix)} succeeded\n${install.stdout}${install.stderr}`);
  const listed = spawnSync(process.execPath, [codeServer, ...common, '--list-extensions', '--show-versions'], { env, encoding: 'utf8', timeout: STEP_MS });
  check(/^hf-lsp\.hf-lsp@/m.test(listed.stdout), `the extension is installed (${listed.stdout.trim()})`);

  mkdirSync(path.join(dirs['user-data'], 'User'), { recursive: true });
  const userSettings = path.join(dirs['user-data'], 'User', 'settings.json');
  writeFileSync(
    userSettings,
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'chat.disableAIFeatures': true,
        'git.enabled': false,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
      },
      null,
      2,
    ),
  );
  const file = path.join(dirs.workspace, 'main.py');
  writeFileSync(file, BEFORE);
  mkdirSync(path.join(dirs.workspace, '.vscode'));
  const workspaceSettings = path.join(dirs.workspace, '.vscode', 'settings.json');
  writeFileSync(workspaceSettings, JSON.stringify({ 'hfLsp.url': fakeUrl, 'hfLsp.model': fakeInfo.model, 'hfLsp.serverPath': serverPath }, null, 2));

  stage('3. code-server on a random loopback port, no network features');
  const cs = start(
    'code-server',
    process.execPath,
    [codeServer, ...common, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', '--idle-timeout-seconds', '600', dirs.workspace],
    { env },
  );
  const url = (await firstMatch(cs, /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//, 'code-server'))[1];
  log(`code-server at ${url}`);

  stage('4. the browser');
  browser = await chromium.launchPersistentContext(dirs.browser, {
    executablePath: opt.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    viewport: { width: 1400, height: 900 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(STEP_MS);
  await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.locator('.monaco-workbench').waitFor();
  log('workbench loaded');

  const statusItem = page.locator('.statusbar-item').filter({ hasText: 'hf-lsp' });
  const statusLabel = async () => (await statusItem.count()) > 0 ? ((await statusItem.first().locator('[aria-label]').first().getAttribute('aria-label').catch(() => null)) ?? (await statusItem.first().getAttribute('aria-label')) ?? '') : '';
  const runCommand = async (title) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: title }).first();
    await row.waitFor();
    await page.keyboard.press('Enter');
  };
  const shot = (name) => page.screenshot({ path: path.join(opt.artifacts, `${name}.png`) });

  await waitFor('the hf-lsp status bar item to say idle', async () => /hf-lsp: idle/.test(await statusLabel()));
  check(true, `the extension started hf-lsp (status bar: "${await statusLabel()}")`);

  stage('5. open the file, cursor at its end');
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('main.py');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'main.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor();
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');

  stage('6. no token yet: the fake API answers 401 and the status bar shows the error');
  await runCommand('hf-lsp: Trigger Suggestion');
  await waitFor('the status bar to show the 401', async () => /hf-lsp: error — .*Invalid credentials/i.test(await statusLabel()));
  check(true, `without a token the status bar shows the error (${await statusLabel()})`);
  await shot('1-no-token-error');

  stage('7. the token, typed into the password box and stored in SecretStorage; the server restarts');
  const before = serverPids();
  await runCommand('hf-lsp: Set Hugging Face Token');
  const box = page.locator('.quick-input-widget input[type="password"]');
  await box.waitFor();
  await box.fill(TOKEN);
  await page.keyboard.press('Enter');
  await waitFor('a restarted hf-lsp', async () => serverPids().some((pid) => !before.includes(pid)) && /hf-lsp: idle/.test(await statusLabel()));
  check(true, 'setting the token restarted the server');

  stage('8. ask again: ghost text appears; Tab accepts it; the saved file has it');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await runCommand('hf-lsp: Trigger Suggestion');
  const ghost = page.locator('.ghost-text-decoration, .ghost-text').first();
  await ghost.waitFor({ state: 'visible' });
  const ghostText = (await page.locator('.ghost-text-decoration, .ghost-text').allInnerTexts()).join('').replace(/\u00a0/g, ' ');
  check(ghostText.includes('return a + b'), `ghost text is shown: ${JSON.stringify(ghostText)}`);
  await shot('2-ghost-text');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+S');
  const saved = await waitFor('the accepted text on disk', async () => {
    const text = readFileSync(file, 'utf8');
    return text !== BEFORE ? text : null;
  });
  check(saved === AFTER, `Tab accepted the suggestion; the file on disk is ${JSON.stringify(saved)}`);
  await shot('3-accepted');

  stage('9. hfLsp/status through the command');
  await runCommand('hf-lsp: Show Status');
  const toast = page.locator('.notification-toast').filter({ hasText: /hf-lsp [\d.]+: \d+ requests?/ }).first();
  await toast.waitFor();
  const statusText = await toast.innerText();
  check(/[1-9]\d* API calls?/.test(statusText) && /model: bigcode\/starcoder2-15b/.test(statusText), `Show Status reports the figures: ${statusText.replace(/\s+/g, ' ')}`);
  await shot('4-status');

  stage('10. the server dies: the client starts a new one and the status bar comes back to idle');
  const running = serverPids();
  check(running.length === 1, `one hf-lsp process is running (${running})`);
  process.kill(running[0], 'SIGKILL');
  await waitFor('hf-lsp to be restarted after a crash', async () => {
    const now = serverPids();
    return now.length === 1 && now[0] !== running[0] && /hf-lsp: idle/.test(await statusLabel());
  });
  check(true, 'a crashed server was restarted');

  stage('11. automatic suggestions off: typing sends nothing, the explicit trigger still asks');
  await runCommand('hf-lsp: Toggle Automatic Suggestions');
  await waitFor('hfLsp.autoSuggest: false in the user settings', async () => /"hfLsp\.autoSuggest":\s*false/.test(readFileSync(userSettings, 'utf8')));
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('x = ad', { delay: 80 });
  await page.waitForTimeout(1500);
  await runCommand('hf-lsp: Show Status');
  await page.locator('.notification-toast').filter({ hasText: /hf-lsp [\d.]+: 0 requests/ }).first().waitFor();
  check(true, 'with automatic suggestions off, typing sent the server no request');
  await runCommand('hf-lsp: Trigger Suggestion');
  await page.locator('.ghost-text-decoration, .ghost-text').first().waitFor({ state: 'visible' });
  check(true, 'the explicit trigger still shows a suggestion');
  await page.keyboard.press('Escape');

  stage('12. the log command shows the server\'s log');
  await runCommand('hf-lsp: Show Log');
  await page.locator('.part.panel').waitFor({ state: 'visible' });
  await shot('5-log');

  stage('13. a server that is not there: a clear message with the install command, nothing running');
  writeFileSync(workspaceSettings, JSON.stringify({ 'hfLsp.url': fakeUrl, 'hfLsp.model': fakeInfo.model, 'hfLsp.serverPath': path.join(work, 'nowhere', 'hf-lsp') }, null, 2));
  const missing = page.locator('.notification-toast').filter({ hasText: 'pip install hf-lsp' }).first();
  await missing.waitFor();
  check(true, `a missing server is reported with the install command: ${(await missing.innerText()).replace(/\s+/g, ' ')}`);
  await waitFor('the status bar to say stopped', async () => /hf-lsp: stopped/.test(await statusLabel()));
  await waitFor('the old server to exit', async () => serverPids().length === 0, 10_000);
  check(true, 'the old server was stopped and none is running');
  await shot('6-missing-server');

  await stopAll();

  stage('14. what the API saw, and where the token is not');
  const requests = JSON.parse(readFileSync(path.join(work, 'requests.json'), 'utf8'));
  check(requests.some((r) => !r.authorized), 'the first request went without a token and was refused');
  const good = requests.filter((r) => r.authorized && r.hadAuthorization);
  check(good.length >= 1, `${good.length} request(s) carried the token from SecretStorage`);
  check(good.every((r) => r.parameters?.max_new_tokens > 0 && r.parameters?.return_full_text === false), 'each sent max_new_tokens and return_full_text: false');
  check(good.every((r) => r.inputs.includes('<fim_prefix>') && r.inputs.includes('def add(a, b):')), 'the prompt is a StarCoder FIM prompt around the cursor');
  const logs = filesUnder(dirs['user-data']).filter((f) => f.includes(`${path.sep}hf-lsp.hf-lsp${path.sep}`));
  const channel = logs.find((f) => path.basename(f) === 'hf-lsp.log');
  const fileLog = logs.find((f) => path.basename(f) === 'server.log');
  check(channel && /\[info\] .*settings applied/.test(readFileSync(channel, 'utf8')), `the server's records reach the output channel at their level (${channel && path.relative(work, channel)})`);
  check(fileLog && /hf-lsp [\d.]+ serving/.test(readFileSync(fileLog, 'utf8')), `the server writes its full log to the extension's log folder (${fileLog && path.relative(work, fileLog)})`);
  const leaks = [...filesUnder(dirs['user-data']), ...filesUnder(dirs.workspace), ...filesUnder(dirs.extensions), ...filesUnder(opt.artifacts)].filter(
    (f) => statSync(f).size < 50_000_000 && readFileSync(f).includes(TOKEN),
  );
  check(leaks.length === 0, `the token is in no settings, log or state file of code-server (${leaks.join(', ') || 'none'})`);
  check(!readFileSync(workspaceSettings, 'utf8').includes('apiToken'), 'settings.json holds no token');
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`[vscode-e2e] ${signal} in step "${current}": stopping everything it started`);
    void stopAll().finally(() => process.exit(1));
  });
}

const watchdog = setTimeout(() => {
  console.error('[vscode-e2e] the whole test took longer than 8 minutes; stopping');
  void stopAll().finally(() => process.exit(1));
}, 8 * 60_000);

try {
  await main();
  log(`passed; artefacts in ${opt.artifacts}`);
} catch (error) {
  process.exitCode = 1;
  console.error(`[vscode-e2e] FAILED in step "${current}": ${error?.stack ?? error}`);
  try {
    const page = browser?.pages()[0];
    if (page) await page.screenshot({ path: path.join(opt.artifacts, 'failure.png') });
  } catch {}
} finally {
  await stopAll();
  clearTimeout(watchdog);
  if (!opt.keep && existsSync(work)) rmSync(work, { recursive: true, force: true });
}
