// Drives twofold's pages in Debian's headless Chromium: password, TOTP challenge, home,
// an app password created on the devices page, logout. Called by tests/it/browser.rs with
// TWOFOLD_BASE (http://localhost:PORT), TWOFOLD_UID, TWOFOLD_PASSWORD, TWOFOLD_TOTP_SECRET.
// Prints one JSON line with what it saw; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.TWOFOLD_BASE;
const uid = process.env.TWOFOLD_UID;
const password = process.env.TWOFOLD_PASSWORD;
const secret = process.env.TWOFOLD_TOTP_SECRET;

// The code of the next time step: enrollment already used the current one.
function totp(offsetSeconds) {
  const at = Math.floor(Date.now() / 1000) + offsetSeconds;
  return execFileSync('oathtool', ['--totp=SHA1', '-d', '6', '-s', '30s', '-b', '--now', `@${at}`, secret])
    .toString().trim();
}

function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
}

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tf-chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = {};
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  await page.goto(`${base}/`);
  expect(page.url() === `${base}/login`, `redirected to the login page, got ${page.url()}`);
  seen.loginTitle = await page.title();

  await page.fill('#uid', uid);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/login/challenge`);
  seen.challengeHeading = await page.textContent('h1');

  await page.fill('#code', '000000');
  await page.click('form[action="/login/challenge"] button[type=submit]');
  seen.wrongCode = (await page.textContent('#challenge-error'))?.trim();

  await page.fill('#code', totp(30));
  await page.click('form[action="/login/challenge"] button[type=submit]');
  await page.waitForURL(`${base}/`);
  seen.signedIn = (await page.textContent('#signed-in'))?.replace(/\s+/g, ' ').trim();

  await page.click('a[href="/settings/devices"]');
  await page.fill('#name', 'Browser test');
  await page.click('form[action="/settings/devices/app-passwords"] button');
  seen.appPassword = (await page.textContent('#new-app-password'))?.trim();

  // The password page's live hint (static/password.js) names what is wrong as one types.
  await page.goto(`${base}/settings/password`);
  seen.passwordTitle = await page.title();
  await page.fill('#new', 'qwertyuiop');
  await page.waitForFunction(() => document.querySelector('#new-hint').textContent.trim() !== '');
  seen.passwordHint = (await page.textContent('#new-hint'))?.trim();

  await page.goto(`${base}/`);
  await page.click('form[action="/logout"] button');
  await page.waitForURL(`${base}/login`);
  seen.loggedOut = true;
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
