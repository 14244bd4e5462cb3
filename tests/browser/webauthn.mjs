// WebAuthn in Debian's headless Chromium with CDP virtual authenticators: register two
// security keys on the security page, sign out, sign in with password + each key, refuse
// a key that is not the user's, remove keys. Called by tests/it/webauthn.rs with
// TWOFOLD_BASE (http://localhost:PORT: WebAuthn refuses 127.0.0.1), TWOFOLD_UID,
// TWOFOLD_PASSWORD. Prints one JSON line with what it saw; exits non-zero on failure.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.TWOFOLD_BASE;
const uid = process.env.TWOFOLD_UID;
const password = process.env.TWOFOLD_PASSWORD;

function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
}

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tf-webauthn-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = {};
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  page.on('console', (m) => console.error(`console: ${m.text()}`));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  // A key is plugged in (a virtual authenticator holding its credentials) or unplugged
  // (its credentials kept aside): with several plugged in, Chromium would ask which one.
  const plugIn = async (credentials = []) => {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'usb', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    for (const credential of credentials) {
      await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    }
    return authenticatorId;
  };
  const unplug = async (authenticatorId) => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    return credentials;
  };

  const signIn = async () => {
    await page.goto(`${base}/login`);
    await page.fill('#uid', uid);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  };
  const signOut = async () => {
    await page.goto(`${base}/`);
    await page.click('form[action="/logout"] button');
    await page.waitForURL(`${base}/login`);
  };
  // Answers the challenge with whichever key is on; resolves when signed in.
  const useKey = async () => {
    await page.click('#webauthn-login');
    await page.waitForFunction(() => location.pathname === '/'
      || (document.getElementById('webauthn-error') && !document.getElementById('webauthn-error').hidden));
    const error = await page.$('#webauthn-error:not([hidden])');
    if (error) throw new Error(`signing in with a key: ${await error.textContent()}`);
  };
  const register = async (name) => {
    await page.goto(`${base}/settings/security`);
    await page.fill('#key-name', name);
    await page.click('#webauthn-register button');
    await page.waitForFunction((n) => [...document.querySelectorAll('.key-name')].some((e) => e.textContent === n)
      || !document.getElementById('webauthn-error').hidden, name);
    const error = await page.$('#webauthn-error:not([hidden])');
    if (error) throw new Error(`registering ${name}: ${await error.textContent()}`);
  };

  if (process.env.TWOFOLD_MODE === 'setup') {
    // 2FA is enforced and the user has no factor: a security key set up in the login flow.
    await signIn();
    await page.waitForURL(`${base}/login/setup`);
    await plugIn();
    await page.fill('#key-name', 'First key');
    await page.click('#webauthn-register button');
    await page.waitForFunction(() => location.pathname === '/'
      || !document.getElementById('webauthn-error').hidden);
    const setupError = await page.$('#webauthn-error:not([hidden])');
    if (setupError) throw new Error(`setting up a key: ${await setupError.textContent()}`);
    seen.setupSignedIn = (await page.textContent('#signed-in'))?.replace(/\s+/g, ' ').trim();
    console.log(JSON.stringify(seen));
    process.exit(0);
  }

  await signIn();
  await page.waitForURL(`${base}/`);
  let plugged = await plugIn();
  await register('Key A');
  const keyA = await unplug(plugged);
  plugged = await plugIn();
  await register('Key B');
  seen.keys = await page.$$eval('.key-name', (els) => els.map((e) => e.textContent));
  // Rename key B on the page, then back.
  await page.fill('#security-keys li:has-text("Key B") form.rename input[name=name]', 'Key B2');
  await page.click('#security-keys li:has-text("Key B") form.rename button');
  await page.waitForURL(`${base}/settings/security`);
  seen.renamed = await page.$$eval('.key-name', (els) => els.map((e) => e.textContent));
  await page.fill('#security-keys li:has-text("Key B2") form.rename input[name=name]', 'Key B');
  await page.click('#security-keys li:has-text("Key B2") form.rename button');
  await page.waitForURL(`${base}/settings/security`);
  expect(keyA.length === 1, `key A holds one credential: ${keyA.length}`);
  await signOut();

  // Password, then key B (still plugged in).
  await signIn();
  await page.waitForURL(`${base}/login/challenge`);
  seen.challengeButton = (await page.textContent('#webauthn-login'))?.trim();
  await useKey();
  seen.signedInWithB = (await page.textContent('#signed-in'))?.replace(/\s+/g, ' ').trim();
  await signOut();

  // One answer of key B captured in the page and sent twice at once: one of the two
  // passes, never both. Then the same answer in a new sign-in attempt: refused (the
  // challenge it signed was used up). A fresh answer still works after that.
  const answer = () => page.evaluate(async () => {
    const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const begun = await (await fetch('/api/v1/login/challenge/begin', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ provider: 'webauthn' }),
    })).json();
    const pk = begun.options.publicKey;
    pk.challenge = b64(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => { c.id = b64(c.id); });
    const cred = await navigator.credentials.get({ publicKey: pk });
    const r = cred.response;
    return JSON.stringify({
      id: cred.id, rawId: enc(cred.rawId), type: cred.type, extensions: {},
      response: {
        clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData),
        signature: enc(r.signature), userHandle: r.userHandle ? enc(r.userHandle) : null,
      },
    });
  });
  const send = (code, times) => page.evaluate(async ({ code, times }) => {
    const one = () => fetch('/api/v1/login/challenge', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ provider: 'webauthn', code }),
    }).then((r) => r.status);
    return Promise.all(Array.from({ length: times }, one));
  }, { code, times });
  await signIn();
  await page.waitForURL(`${base}/login/challenge`);
  const captured = await answer();
  seen.raced = (await send(captured, 2)).sort();
  await signOut();
  await signIn();
  await page.waitForURL(`${base}/login/challenge`);
  await page.evaluate(() => fetch('/api/v1/login/challenge/begin', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ provider: 'webauthn' }),
  }));
  seen.replayed = await send(captured, 1);
  seen.freshAfterReplay = await send(await answer(), 1);
  await page.goto(`${base}/`);
  await signOut();

  // Key A works too.
  await unplug(plugged);
  plugged = await plugIn(keyA);
  await signIn();
  await page.waitForURL(`${base}/login/challenge`);
  await useKey();
  seen.signedInWithA = true;
  await signOut();
  const keyAUsed = await unplug(plugged);

  // A key that holds no credential of this user's cannot answer.
  plugged = await plugIn();
  await signIn();
  await page.waitForURL(`${base}/login/challenge`);
  const refused = async () => {
    await page.click('#webauthn-login');
    await page.waitForSelector('#webauthn-error:not([hidden])', { timeout: 60000 });
    const stillThere = page.url() === `${base}/login/challenge`;
    await page.evaluate(() => { document.getElementById('webauthn-error').hidden = true; });
    return stillThere;
  };
  seen.strangerRefused = await refused();
  await unplug(plugged);

  // A copy of key A as it was before its last use (its signature counter behind): a
  // cloned key, refused by the counter check.
  plugged = await plugIn(keyA);
  seen.staleCopyRefused = await refused();
  await unplug(plugged);

  // Back in with the real key A, remove key B then key A: no second factor left.
  plugged = await plugIn(keyAUsed);
  await useKey();
  await page.goto(`${base}/settings/security`);
  await page.click('#security-keys li:has-text("Key B") form[action$="/remove"] button');
  await page.waitForURL(`${base}/settings/security`);
  seen.afterRemovingB = await page.$$eval('.key-name', (els) => els.map((e) => e.textContent));
  await page.click('#security-keys li:has-text("Key A") form[action$="/remove"] button');
  await page.waitForURL(`${base}/settings/security`);
  seen.noKeysLeft = (await page.$('#no-keys')) !== null;
  await unplug(plugged);

  // A passkey: registered on the security page, then sign-in with no password at all.
  plugged = await plugIn();
  await page.goto(`${base}/settings/security`);
  await page.fill('#passkey-name', 'Laptop');
  await page.click('#passkey-register button');
  await page.waitForFunction(() => document.querySelector('.passkey-name')
    || !document.getElementById('passkey-error').hidden);
  const passkeyError = await page.$('#passkey-error:not([hidden])');
  if (passkeyError) throw new Error(`registering the passkey: ${await passkeyError.textContent()}`);
  seen.passkeys = await page.$$eval('.passkey-name', (els) => els.map((e) => e.textContent));
  // The same authenticator as a second-factor key: refused, and the page says why.
  await page.fill('#key-name', 'Same');
  await page.click('#webauthn-register button');
  await page.waitForSelector('#webauthn-error:not([hidden])', { timeout: 60000 });
  seen.sameCredentialTwice = (await page.textContent('#webauthn-error'))?.trim();
  await signOut();
  await page.click('#passkey-login');
  await page.waitForFunction(() => location.pathname === '/'
    || !document.getElementById('passkey-error').hidden);
  const signInError = await page.$('#passkey-error:not([hidden])');
  if (signInError) throw new Error(`signing in with the passkey: ${await signInError.textContent()}`);
  seen.signedInWithPasskey = (await page.textContent('#signed-in'))?.replace(/\s+/g, ' ').trim();
  // A passkey sign-in counts as two factors: forward-auth's default rule (two_factor)
  // lets this session through.
  seen.passkeyForwardAuth = await page.evaluate(async (origin) => {
    const r = await fetch('/api/v1/forward-auth/nginx', {
      headers: { 'X-Original-URL': `${origin}/app/`, 'X-Original-Method': 'GET' },
    });
    return r.status;
  }, base);
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
