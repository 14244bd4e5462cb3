// Screenshots of the login and security pages for the README, in Debian's Chromium.
// Called by scripts/screenshots.sh with TWOFOLD_BASE, TWOFOLD_UID, TWOFOLD_PASSWORD, OUT.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.TWOFOLD_BASE;
const out = process.env.OUT;
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tf-shots-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  viewport: { width: 900, height: 640 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#uid', process.env.TWOFOLD_UID);
  await page.screenshot({ path: join(out, 'login.png') });
  await page.fill('#password', process.env.TWOFOLD_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/settings/security`);
  await page.click('form[action="/settings/security/totp/begin"] button');
  await page.screenshot({ path: join(out, 'security.png'), fullPage: true });
} finally {
  await browser.close();
}
