// login.mjs URL: plays the person at the browser in the web server flow, in Debian's headless
// Chromium driven by playwright-core (no browser is ever downloaded). It opens URL (the org's
// authorize page), logs in on the login form, clicks Allow (or Deny), follows the redirect to
// the CLI's loopback page and writes what it saw to $ISF_BROWSER_OUT/result.json:
//   {ok, steps[], login_title, consent_title, landed (origin + path, never the query: it holds
//    the code), text (the loopback page's text), error}
// Environment: ISF_BROWSER_OUT (folder, required), ISF_BROWSER_ACTION allow|deny (allow),
// ISF_BROWSER_USER / ISF_BROWSER_PASSWORD (the fake org's user), ISF_BROWSER_WRONG_FIRST (non-empty:
// first log in with a wrong password and record the error shown), ISF_BROWSER_SPKI (base64
// SHA-256 of the fake org's public key: the one certificate Chromium accepts without the test
// CA), ISF_CHROMIUM (/usr/bin/chromium), ISF_BROWSER_TIMEOUT_MS (30000).
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const out = process.env.ISF_BROWSER_OUT;
const action = process.env.ISF_BROWSER_ACTION || 'allow';
const timeout = Number(process.env.ISF_BROWSER_TIMEOUT_MS || 30000);
const result = { ok: false, action, steps: [] };

// Codes and states never reach a file (every string written goes through this), nor do the
// terminal colours of Playwright's call logs.
const redact = (s) =>
  String(s)
    .replace(/([?&#](code|state)=)[^&#\s"']*/g, '$1REDACTED')
    .replace(/\u001b\[[0-9;]*m/g, '');

function save() {
  const tmp = join(out, 'result.json.tmp');
  writeFileSync(tmp, JSON.stringify(result, (k, v) => (typeof v === 'string' ? redact(v) : v)));
  renameSync(tmp, join(out, 'result.json')); // the test waits for this name: write it whole
}

function isLoopbackPage(u) {
  const { protocol, hostname } = new URL(u);
  return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

// Clicks Log In and waits for the page the POST answered with (its URL is /login every time, so
// waiting for the URL would not tell one attempt from the next).
async function submitLogin(page) {
  const posted = (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login';
  await Promise.all([page.waitForResponse(posted), page.click('#Login')]);
  await page.waitForLoadState('load');
}

async function run(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);

  await page.goto(url);
  result.login_title = await page.title();
  if (result.login_title !== 'Login | Salesforce') {
    // e.g. the org's OAuth error page (unknown client, redirect_uri_mismatch): say so at once.
    throw new Error(`the org showed "${result.login_title}": ${await page.locator('body').innerText()}`);
  }
  result.steps.push('login page');
  if (process.env.ISF_BROWSER_WRONG_FIRST) {
    // A mistyped password first: the form must come back with an error, and the right one work.
    await page.fill('#username', process.env.ISF_BROWSER_USER || '');
    await page.fill('#password', 'not-the-password');
    await submitLogin(page);
    result.login_error = await page.locator('#error').innerText();
    result.steps.push('login error');
  }
  await page.fill('#username', process.env.ISF_BROWSER_USER || '');
  await page.fill('#password', process.env.ISF_BROWSER_PASSWORD || '');
  await submitLogin(page);
  result.consent_title = await page.title();
  if (result.consent_title !== 'Allow Access?') {
    throw new Error(`after logging in the page is "${result.consent_title}", not the consent page`);
  }
  result.steps.push('consent page');
  await Promise.all([
    page.waitForURL(isLoopbackPage, { waitUntil: 'load' }),
    page.click(action === 'deny' ? '#oadeny' : '#oaapprove'),
  ]);
  result.steps.push(action === 'deny' ? 'clicked Deny' : 'clicked Allow');
  const landed = new URL(page.url());
  result.landed = landed.origin + landed.pathname;
  result.text = await page.locator('body').innerText();
  result.steps.push('loopback page');
  result.ok = true;
}

if (!url || !out) {
  console.error('usage: ISF_BROWSER_OUT=DIR node login.mjs URL');
  process.exit(2);
}
let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.ISF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout,
    // --no-sandbox: the test runs as root in a container, where Chromium's sandbox cannot start.
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      `--ignore-certificate-errors-spki-list=${process.env.ISF_BROWSER_SPKI || ''}`,
    ],
  });
  await run(browser);
} catch (e) {
  result.error = e && e.message ? e.message : String(e);
} finally {
  if (browser) await browser.close().catch(() => {});
  save();
}
process.exit(result.ok ? 0 : 1);
