// The devices page's Web Push button and the service worker in Debian's headless Chromium.
// Called by tests/it/web_push.rs with TWOFOLD_BASE (http://localhost:PORT), TWOFOLD_UID,
// TWOFOLD_PASSWORD. Offline there is no browser push service, so subscribing itself may
// fail; what is checked is the part twofold owns: the script runs under the page's CSP,
// registers /static/sw.js for the whole origin, and the worker turns a push message into
// a notification that opens only twofold's own pages. Prints one JSON line.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.TWOFOLD_BASE;
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tf-chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = { console: [] };
try {
  await browser.grantPermissions(['notifications'], { origin: base });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.on('console', (m) => seen.console.push(m.text()));
  await page.goto(`${base}/login`);
  await page.fill('#uid', process.env.TWOFOLD_UID);
  await page.fill('#password', process.env.TWOFOLD_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);

  await page.goto(`${base}/settings/devices`);
  seen.buttonShown = await page.isVisible('#webpush-subscribe');
  const worker = browser.waitForEvent('serviceworker', { timeout: 15000 });
  await page.click('#webpush-subscribe');
  const sw = await worker;
  seen.workerUrl = sw.url();
  // The script either reloads the page with the new subscription or says why not.
  await page.waitForFunction(
    () => document.querySelector('#webpush-status')?.textContent || document.querySelector('#push-subscriptions li'),
    null, { timeout: 25000 }).catch(() => {});
  seen.status = (await page.textContent('#webpush-status').catch(() => null)) ?? '';
  seen.subscribed = await page.isVisible('#push-subscriptions li');
  seen.scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.scope ?? null);

  // A push message as the browser would hand it to the worker, then the notification.
  seen.notifications = await sw.evaluate(async () => {
    const push = (data) => self.dispatchEvent(new PushEvent('push', { data: JSON.stringify(data) }));
    try { push({ title: 'Sign-in request', body: 'Firefox on Windows', url: '/settings/security', tag: 'a' }); } catch (e) { /* waitUntil on a synthetic event */ }
    try { push({ title: 'Elsewhere', body: 'x', url: 'https://evil.example/', tag: 'b' }); } catch (e) { /* idem */ }
    await new Promise((r) => setTimeout(r, 1000));
    const shown = await self.registration.getNotifications();
    return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }));
  });
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
