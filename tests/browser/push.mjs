// Push approval between two headless Chromium contexts, as two devices: A signs in with
// the password and asks for approval; B, already signed in with TOTP (in French), sees
// the live banner and picks the number A shows; A lands home without a reload. Then a
// rejection: A is told. Called by tests/it/browser.rs with TWOFOLD_BASE,
// TWOFOLD_UID, TWOFOLD_PASSWORD, TWOFOLD_TOTP_SECRET. Prints one JSON line with what it
// saw; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.TWOFOLD_BASE;
const uid = process.env.TWOFOLD_UID;
const password = process.env.TWOFOLD_PASSWORD;
const secret = process.env.TWOFOLD_TOTP_SECRET;

function totp(offsetSeconds) {
  const at = Math.floor(Date.now() / 1000) + offsetSeconds;
  return execFileSync('oathtool', ['--totp=SHA1', '-d', '6', '-s', '30s', '-b', '--now', `@${at}`, secret])
    .toString().trim();
}

function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
}

async function device(locale) {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tf-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    locale,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function signInWithPassword(page) {
  await page.goto(`${base}/login`);
  await page.fill('#uid', uid);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/login/challenge`);
}

const phone = await device('fr-FR');
const laptop = await device('en-US');
const seen = {};
try {
  // B: signed in with TOTP, on its home page.
  const b = phone.pages()[0] ?? await phone.newPage();
  await signInWithPassword(b);
  await b.fill('#code', totp(30));
  await b.click('form:has(#code) button[type=submit]');
  await b.waitForURL(`${base}/`);

  // A: the password, then "send a request to my other devices".
  const a = laptop.pages()[0] ?? await laptop.newPage();
  await signInWithPassword(a);
  await a.click('#push-send button');
  await a.waitForSelector('#push-number');
  const number = (await a.textContent('#push-number')).trim();
  // A reload shows the same request, never a second one.
  await a.reload();
  seen.sameAfterReload = (await a.textContent('#push-number')).trim() === number;

  // B sees it live, in French, with three numbers.
  await b.waitForSelector('#approvals .approval button.number', { timeout: 10000 });
  seen.bannerTitle = (await b.textContent('#approvals .approval-title')).trim();
  seen.bannerFrom = (await b.textContent('#approvals .approval .small')).trim();
  const choices = await b.$$eval('#approvals .approval button.number', (bs) => bs.map((x) => x.textContent.trim()));
  seen.choices = choices.length;
  expect(choices.includes(number), `the right number ${number} among ${choices}`);
  const started = Date.now();
  await b.click(`#approvals .approval button.number >> text="${number}"`);

  // A goes on by itself: no reload, no click.
  await a.waitForURL(`${base}/`, { timeout: 10000 });
  seen.approvedToHomeMs = Date.now() - started;
  seen.signedIn = (await a.textContent('#signed-in'))?.replace(/\s+/g, ' ').trim();

  // A second laptop login, rejected from B: A's page says so.
  await a.click('form[action="/logout"] button');
  await a.waitForURL(`${base}/login`);
  await signInWithPassword(a);
  await a.click('#push-send button');
  await a.waitForSelector('#push-number');
  await b.waitForSelector('#approvals .approval button.secondary', { timeout: 10000 });
  await b.click('#approvals .approval button.secondary');
  await a.waitForSelector('#challenge-error', { timeout: 10000 });
  seen.rejected = (await a.textContent('#challenge-error')).trim();
  seen.stillAtChallenge = a.url() === `${base}/login/challenge`;
  console.log(JSON.stringify(seen));
} finally {
  await phone.close();
  await laptop.close();
}
