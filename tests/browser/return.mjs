// The documented deployment in Debian's headless Chromium: twofold at auth.example.org,
// an app at files.example.org behind nginx's auth_request, both over https on one port
// (the names mapped to 127.0.0.1). Each path opens the app, is sent to the login page,
// signs in and must end on the app's page. Called by tests/it/deployment.rs with
// TWOFOLD_AUTH (https://auth.example.org:PORT), TWOFOLD_APP and TWOFOLD_OTHER_APP (two
// protected origins), TWOFOLD_EVIL (an origin no config allows), TWOFOLD_SPKI (the
// certificate's key hash, trusted like a real CA's certificate would be) and
// TWOFOLD_USERS (JSON: uid → {password, totp}). Prints one JSON line: per path the URL
// it ended on, the page's heading there, the console messages, and the error if any.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';

const auth = process.env.TWOFOLD_AUTH;
const app = process.env.TWOFOLD_APP;
const otherApp = process.env.TWOFOLD_OTHER_APP;
const evil = process.env.TWOFOLD_EVIL;
const users = JSON.parse(process.env.TWOFOLD_USERS);
const hosts = [auth, app, otherApp, evil].map((u) => new URL(u).hostname);

function totp(secret, offsetSeconds) {
  const at = Math.floor(Date.now() / 1000) + offsetSeconds;
  return execFileSync('oathtool', ['--totp=SHA1', '-d', '6', '-s', '30s', '-b', '--now', `@${at}`, secret])
    .toString().trim();
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`,
         // The test's self-signed certificate passes as valid (no certificate error: a
         // page with one gets no WebAuthn).
         `--ignore-certificate-errors-spki-list=${process.env.TWOFOLD_SPKI}`],
});

const seen = {};
// Runs one path in a fresh browser profile (no cookies) and records where it ended.
async function path(name, body) {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const record = { console: [] };
  page.on('console', (m) => record.console.push(m.text()));
  page.on('pageerror', (e) => record.console.push(`pageerror: ${e.message}`));
  try {
    await body(page, context);
  } catch (e) {
    record.error = e.message.split('\n')[0];
  }
  record.url = page.url();
  record.heading = (await page.textContent('h1').catch(() => null))?.trim() ?? null;
  seen[name] = record;
  await context.close();
}

const onOrigin = (origin) => (url) => url.origin === new URL(origin).origin;
// Opens `target` (a protected page): nginx sends the browser to the login page with the
// way back; the password is sent from there.
async function openAndSignIn(page, target, uid) {
  await page.goto(target);
  await page.waitForURL(onOrigin(auth));
  if (!page.url().startsWith(`${auth}/login?rd=`)) throw new Error(`not the login page: ${page.url()}`);
  await page.fill('#uid', uid);
  await page.fill('#password', users[uid].password);
  await page.click('form[action="/login"] button[type=submit]');
}
const backAt = (page, target) => page.waitForURL(onOrigin(target), { timeout: 10000 });

try {
  // (a) Password only.
  await path('password', async (page) => {
    await openAndSignIn(page, `${app}/`, 'paula');
    await backAt(page, app);
  });

  // (b) Password, then a TOTP code on the challenge page.
  await path('totp', async (page) => {
    await openAndSignIn(page, `${app}/`, 'tom');
    await page.waitForURL(`${auth}/login/challenge`);
    await page.fill('#code', totp(users.tom.totp, 30));
    await page.click('form[action="/login/challenge"] button[type=submit]');
    await backAt(page, app);
  });

  // (c) 2FA enforced, no factor yet: TOTP set up in the login flow.
  await path('setup', async (page) => {
    await openAndSignIn(page, `${app}/`, 'sam');
    await page.waitForURL(`${auth}/login/setup`);
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#code', totp(secret, 0));
    await page.press('#code', 'Enter');
    await backAt(page, app);
  });

  // (d) A passkey (a CDP virtual authenticator): registered after a password sign-in,
  // then used alone, from the login page the app sent the browser to.
  await path('passkey', async (page, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'usb', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    await page.goto(`${auth}/login`);
    await page.fill('#uid', 'kim');
    await page.fill('#password', users.kim.password);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(`${auth}/`);
    await page.goto(`${auth}/settings/security`);
    await page.fill('#passkey-name', 'Laptop');
    await page.click('#passkey-register button');
    await page.waitForFunction(() => document.querySelector('.passkey-name')
      || !document.getElementById('passkey-error').hidden);
    const registerError = await page.$('#passkey-error:not([hidden])');
    if (registerError) throw new Error(`registering the passkey: ${await registerError.textContent()}`);
    await page.goto(`${auth}/`);
    await page.click('form[action="/logout"] button');
    await page.waitForURL(`${auth}/login`);

    await page.goto(`${app}/`);
    await page.waitForURL(onOrigin(auth));
    if (!page.url().startsWith(`${auth}/login?rd=`)) throw new Error(`not the login page: ${page.url()}`);
    await page.click('#passkey-login');
    await page.waitForFunction((origin) => location.origin !== origin
      || !document.getElementById('passkey-error').hidden, new URL(auth).origin);
    const signInError = await page.$('#passkey-error:not([hidden])');
    if (signInError) throw new Error(`signing in with the passkey: ${await signInError.textContent()}`);
    await backAt(page, app);
  });

  // (e) Another host under the allowed domain, two labels deep.
  await path('subdomain', async (page) => {
    await openAndSignIn(page, `${otherApp}/`, 'erin');
    await backAt(page, otherApp);
  });

  // The policy still refuses a form sent anywhere else: a form on twofold's login page
  // (added through the DevTools protocol, which the page's CSP does not govern) that
  // posts to an origin no config allows.
  await path('foreignForm', async (page) => {
    await page.goto(`${auth}/login`);
    await page.evaluate((action) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      document.body.append(form);
      form.submit();
    }, `${evil}/collect`);
    await page.waitForTimeout(1500);
  });
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
