// Browser test of the example server's sign-in flow, in headless Chromium.
//
//   cargo build --example server
//   cd tests/browser && npm ci && node --test
//
// Env: SERVER_BIN (default ../../target/debug/examples/server), CHROMIUM
// (default /usr/bin/chromium). Screenshots go to <repo>/artifacts/browser/NN-name.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const serverBin = resolve(here, process.env.SERVER_BIN ?? '../../target/debug/examples/server');
const chromiumBin = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = join(repo, 'artifacts', 'browser');

// Worst case, all of these run out: 30 + 20 + 25 + 25 + 15 s < 2 min.
const ACTION_MS = 10_000; // each click, navigation, wait
const STARTUP_MS = 30_000; // the server answering /healthz
const LAUNCH_MS = 20_000; // Chromium starting
const TEST_MS = 25_000; // one test (a passing run takes ~3 s)

let server; // { child, base, log(), dir }
let browser;

/** A port that was free a moment ago (the kernel's pick for port 0). */
function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
/** Like sleep, but does not keep the process alive. */
const idle = (ms) => new Promise((ok) => setTimeout(ok, ms).unref());

/**
 * Starts the example server on a free port with a fresh SQLite file; resolves once /healthz is
 * ok. `host` is the name the browser uses for it (its public URL): `localhost` puts the app on
 * another site than the development provider (always 127.0.0.1), as a real provider is.
 */
async function startServer(host = '127.0.0.1') {
  assert.ok(existsSync(serverBin), `no server binary at ${serverBin}: run \`cargo build --example server\` or set SERVER_BIN`);
  const port = await freePort();
  const base = `http://${host}:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'actix-oauth-browser-'));
  let output = '';
  // The defaults: built-in dev provider, cookie sessions, a generated session key.
  const env = { ...process.env };
  for (const name of ['ACTIX_OAUTH_CONFIG', 'REDIS_URL', 'SESSION_KEY']) delete env[name];
  Object.assign(env, {
    BIND: `127.0.0.1:${port}`,
    PUBLIC_URL: base,
    DATABASE_URL: `sqlite://${join(dir, 'accounts.sqlite3')}?mode=rwc`,
  });
  const child = spawn(serverBin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const s = { child, base, dir, log: () => output, exited: null };
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('exit', (code, signal) => (s.exited = { code, signal }));
  child.on('error', (err) => (s.exited = { error: err }));
  server = s;

  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (s.exited) {
      throw new Error(`server exited before answering /healthz (${JSON.stringify(s.exited)}):\n${output}`);
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && (await res.text()).trim() === 'ok') return s;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`server did not answer ${base}/healthz within ${STARTUP_MS / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
}

/** Stops the server: SIGTERM, then SIGKILL if it lingers. */
async function stopServer(s) {
  if (!s) return;
  const { child } = s;
  if (!s.exited && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await Promise.race([gone, idle(5_000)]);
    clearTimeout(timer);
  }
  rmSync(s.dir, { recursive: true, force: true });
}

// Last resort if the runner is torn down without `after` running.
process.on('exit', () => {
  if (server && !server.exited) server.child.kill('SIGKILL');
});

let shotNo = 0;
async function screenshot(page, name) {
  shotNo += 1;
  const file = join(shots, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: ACTION_MS });
  return file;
}

/** A fresh browser context (no cookies) with bounded timeouts, and a page in it. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  context.setDefaultTimeout(ACTION_MS);
  context.setDefaultNavigationTimeout(ACTION_MS);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[page error] ${err.message}`));
  return { context, page };
}

const onHome = (url) => url.origin === server.base && url.pathname === '/';
const onConsent = (url) => url.origin !== server.base && url.pathname.endsWith('/authorize');

/** Clicks a sign-in link and returns once the provider's consent page has loaded. */
async function openConsent(page, linkId) {
  await page.click(`#${linkId}`);
  await page.waitForURL(onConsent);
  await page.locator('#approve').waitFor();
}

async function text(page, selector) {
  return (await page.locator(selector).textContent({ timeout: ACTION_MS }))?.trim();
}

async function me(context) {
  const res = await context.request.get(`${server.base}/me`, { timeout: ACTION_MS });
  return { status: res.status(), body: await res.json() };
}

/** Adds the server's output to a failure, so the report says why. */
async function withServerLog(fn) {
  try {
    await fn();
  } catch (err) {
    err.message += `\n--- server output ---\n${server?.log() ?? '(no server)'}`;
    throw err;
  }
}

async function launchBrowser() {
  browser = await chromium.launch({
      executablePath: chromiumBin,
      timeout: LAUNCH_MS,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
}

async function closeAll() {
  try {
    if (browser) await Promise.race([browser.close(), idle(5_000)]);
  } finally {
    browser = undefined;
    await stopServer(server);
    server = undefined;
  }
}

describe('example server sign-in in Chromium', () => {
  before(async () => {
    mkdirSync(shots, { recursive: true });
    for (const f of readdirSync(shots)) if (/^\d\d-.*\.png$/.test(f)) rmSync(join(shots, f));
    await startServer();
    await launchBrowser();
  }, { timeout: STARTUP_MS + LAUNCH_MS + 5_000 });

  after(closeAll, { timeout: 15_000 });

  test('sign in with OAuth 2, link OAuth 1.0a, sign out', { timeout: TEST_MS }, () =>
    withServerLog(async () => {
      const { context, page } = await newPage();
      try {
        await page.goto(`${server.base}/`);
        assert.equal(await text(page, '#who'), 'You are not signed in.');
        assert.equal(await text(page, '#signin-dev'), 'Sign in with dev');
        assert.equal(await text(page, '#signin-dev-oauth1'), 'Sign in with dev-oauth1');
        assert.equal((await me(context)).status, 401);
        await screenshot(page, 'home-signed-out');

        await openConsent(page, 'signin-dev');
        assert.equal(new URL(page.url()).pathname, '/oauth2/authorize');
        const alice = page.locator('input[type=radio][name=user][value=alice]');
        assert.ok(await alice.isChecked(), 'alice is preselected');
        assert.equal(await page.locator('input[type=radio][name=user][value=bob]').count(), 1);
        await screenshot(page, 'consent-oauth2');

        await alice.check();
        await page.click('#approve');
        await page.waitForURL(onHome);
        assert.equal(await text(page, '#who'), 'Alice Example');
        assert.equal(await page.locator('#identities li').count(), 1);
        assert.equal(await text(page, '#signin-dev-oauth1'), 'Link dev-oauth1');
        await screenshot(page, 'signed-in-alice');

        await openConsent(page, 'signin-dev-oauth1');
        assert.equal(new URL(page.url()).pathname, '/oauth1/authorize');
        await screenshot(page, 'consent-oauth1');
        await page.locator('input[type=radio][name=user][value=alice]').check();
        await page.click('#approve');
        await page.waitForURL(onHome);
        assert.equal(await text(page, '#who'), 'Alice Example');
        await page.locator('#identities li').nth(1).waitFor();
        assert.equal(await page.locator('#identities li').count(), 2);
        const profile = await me(context);
        assert.equal(profile.status, 200, JSON.stringify(profile.body));
        assert.equal(profile.body.name, 'Alice Example');
        assert.equal(profile.body.email, 'alice@example.test');
        assert.equal(profile.body.identities.length, 2, JSON.stringify(profile.body));
        assert.deepEqual(profile.body.identities.map((i) => i.provider).sort(), ['dev', 'dev-oauth1']);
        await screenshot(page, 'signed-in-two-identities');

        await page.click('#logout');
        await page.waitForURL(onHome);
        await page.locator('p#who').waitFor();
        assert.equal(await text(page, '#who'), 'You are not signed in.');
        assert.equal(await page.locator('#identities').count(), 0);
        assert.equal((await me(context)).status, 401);
        await screenshot(page, 'signed-out');
      } finally {
        await context.close();
      }
    }));

  test('denying at the consent page shows the decline message', { timeout: TEST_MS }, () =>
    withServerLog(async () => {
      const { context, page } = await newPage();
      try {
        await page.goto(`${server.base}/`);
        await openConsent(page, 'signin-dev');
        await page.click('#deny');
        await page.waitForURL((url) => onHome(url) && url.searchParams.has('message'));
        assert.equal(await text(page, '#message'), 'You declined the sign-in.');
        assert.equal(await text(page, '#who'), 'You are not signed in.');
        assert.equal((await me(context)).status, 401);
        await screenshot(page, 'declined');
      } finally {
        await context.close();
      }
    }));
});

// The provider's answer as a cross-site POST (`response_mode=form_post`): the app runs as
// `localhost`, the development provider as `127.0.0.1` — two sites — so Chromium withholds the
// `SameSite=Lax` session cookie from the provider's POST, and sends it with the POST of the app's
// relay page, which submits the same form again from the app's own origin.
describe('form_post sign-in across sites in Chromium', () => {
  before(async () => {
    await startServer('localhost');
    await launchBrowser();
  }, { timeout: STARTUP_MS + LAUNCH_MS + 5_000 });

  after(closeAll, { timeout: 15_000 });

  test('the provider POSTs the answer, the relay brings the session, signed in', { timeout: TEST_MS }, () =>
    withServerLog(async () => {
      const { context, page } = await newPage();
      const callbacks = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/auth/dev-form-post/callback') {
          callbacks.push(request);
        }
      });
      try {
        await page.goto(`${server.base}/`);
        assert.equal(await text(page, '#who'), 'You are not signed in.');
        await openConsent(page, 'signin-dev-form-post');
        assert.equal(new URL(page.url()).hostname, '127.0.0.1', 'the provider is another site');
        assert.equal(new URL(page.url()).searchParams.get('response_mode'), 'form_post');
        await page.locator('input[type=radio][name=user][value=bob]').check();
        await page.click('#approve');
        await page.waitForURL(onHome);
        assert.equal(await text(page, '#who'), 'Bob Example');
        const profile = await me(context);
        assert.equal(profile.status, 200, JSON.stringify(profile.body));
        assert.deepEqual(profile.body.identities.map((i) => i.provider), ['dev-form-post']);
        await screenshot(page, 'signed-in-by-form-post');

        // Two POSTs reached the callback: the provider's, cross-site, without the session
        // cookie; the relay page's, same-site, with it.
        assert.equal(callbacks.length, 2, callbacks.map((r) => r.url()).join(', '));
        const [first, second] = await Promise.all(callbacks.map((r) => r.allHeaders()));
        assert.equal(first.cookie, undefined, `the cross-site POST carried: ${first.cookie}`);
        assert.match(second.cookie ?? '', /=/, 'the relayed POST carries the session cookie');
        assert.equal(new URL(first.referer ?? 'http://127.0.0.1/').hostname, '127.0.0.1');
      } finally {
        await context.close();
      }
    }));
});
