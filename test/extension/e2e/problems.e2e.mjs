#!/usr/bin/env node
// End-to-end check in a real VS Code (code-server + headless Chromium, installed by
// /work/shared/tools/vscode-e2e/install.sh): load the built extension; open bad.s and wait
// until the Problems view shows the language server's error on its bad line; open good.s,
// run "VMX Lab: Assemble and Link Current File", pick "Disassemble" in the notification and
// wait for the objdump-style listing. Works on a copy of workspace/ in a temp dir.
// Not part of `npm test` (it needs the ~330 MB install and takes ~20 s). Usage, after
// `npm run build`:
//   node test/extension/e2e/problems.e2e.mjs [--install-dir DIR] [--screenshot out.png]
// Exit status 0 when the error shows up, 1 otherwise, 66 when VS Code is not installed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const opt = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const installDir = path.resolve(opt('--install-dir', process.env.VSCODE_E2E_DIR ?? '.vscode-e2e'));
const screenshot = path.resolve(opt('--screenshot', 'vmx-lab-e2e.png'));
const EXPECTED = /frobnicate/; // the injected mistake, quoted in the assembler's message
const TIMEOUT_MS = 120_000;

const entry = path.join(installDir, 'node_modules/code-server/out/node/entry.js');
if (!fs.existsSync(entry)) {
  console.error(`code-server not found in ${installDir}: run /work/shared/tools/vscode-e2e/install.sh ${installDir}`);
  process.exit(66);
}
if (!fs.existsSync(path.join(root, 'dist/extension.js'))) {
  console.error('dist/extension.js is missing: run `npm run build` first');
  process.exit(1);
}
const { chromium } = createRequire(path.join(installDir, 'package.json'))('playwright-core');
const t0 = Date.now();
const log = (m) => console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmx-lab-e2e-'));
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
fs.mkdirSync(path.join(tmp, 'extensions'));
fs.symlinkSync(root, path.join(tmp, 'extensions', `${manifest.publisher}.${manifest.name}-${manifest.version}`));
fs.mkdirSync(path.join(tmp, 'user-data/User'), { recursive: true });
fs.writeFileSync(
  path.join(tmp, 'user-data/User/settings.json'),
  JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'workbench.tips.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
  }),
);
const port = await new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
  s.on('error', reject);
});
fs.writeFileSync(path.join(tmp, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
const serverLog = fs.openSync(path.join(tmp, 'code-server.log'), 'w');
const server = spawn(
  process.execPath,
  [entry, '--config', path.join(tmp, 'config.yaml'), '--user-data-dir', path.join(tmp, 'user-data'),
    '--extensions-dir', path.join(tmp, 'extensions'), '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened'],
  { detached: true, stdio: ['ignore', serverLog, serverLog], env: { ...process.env, TMPDIR: tmp } },
);
let browser;
let status = 1;
try {
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > TIMEOUT_MS) throw new Error('code-server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  log('code-server is up');
  browser = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const workspace = path.join(tmp, 'workspace');
  fs.cpSync(path.join(here, 'workspace'), workspace, { recursive: true });
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`, { timeout: TIMEOUT_MS });
  await page.locator('.explorer-folders-view').first().waitFor({ timeout: TIMEOUT_MS });
  log('workbench loaded');
  // Open bad.s from the Explorer, then show the Problems view.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'bad.s' }).first().dblclick({ timeout: TIMEOUT_MS });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: TIMEOUT_MS });
  log('bad.s is open');
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel .monaco-list-row', { hasText: EXPECTED }).first().waitFor({ timeout: TIMEOUT_MS });
  const row = await page.locator('.markers-panel .monaco-list-row', { hasText: EXPECTED }).first().innerText();
  log(`Problems view: ${row.replace(/\s+/g, ' ')}`);
  if (!/\[Ln 5, Col \d+\]/.test(row)) throw new Error('the problem is not located on line 5');

  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'good.s' }).first().dblclick({ timeout: TIMEOUT_MS });
  await page.locator('.tab.active', { hasText: 'good.s' }).waitFor({ timeout: TIMEOUT_MS });
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').first().fill('>VMX Lab: Assemble and Link Current File');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'VMX Lab: Assemble and Link Current File' }).first().click({ timeout: TIMEOUT_MS });
  const toast = page.locator('.notification-toast', { hasText: 'built good.elf' }).first();
  await toast.waitFor({ timeout: TIMEOUT_MS });
  log('notification: built good.elf');
  if (!fs.existsSync(path.join(workspace, 'good.elf'))) throw new Error('good.elf was not written next to good.s');
  await toast.getByRole('button', { name: 'Disassemble' }).click({ timeout: TIMEOUT_MS });
  await page.getByText('Disassembly of section .text:').first().waitFor({ timeout: TIMEOUT_MS });
  await page.getByText('out    %al,(%dx)').first().waitFor({ timeout: TIMEOUT_MS });
  log('disassembly of good.elf is open');
  status = 0;
} catch (e) {
  console.error(`[e2e] FAILED: ${e instanceof Error ? e.message : e}`);
  console.error(fs.readFileSync(path.join(tmp, 'code-server.log'), 'utf8').split('\n').slice(-20).join('\n'));
} finally {
  try {
    await browser?.pages()[0]?.screenshot({ path: screenshot });
    log(`screenshot ${screenshot}`);
  } catch {
    // the browser may be gone already
  }
  await browser?.close().catch(() => {});
  try {
    process.kill(-server.pid, 'SIGTERM'); // the process group we started, nothing else
  } catch {
    // already ended
  }
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  log(status === 0 ? 'PASS' : 'FAIL');
  process.exit(status);
}
