// Opens browser-page.html in headless Chromium, driven by playwright-core.
//
//   node browser.js <chromium executable> <page URL> <collector URL>
//
// The page (served on another origin than the collector) sends a page view and a
// self-describing event through each of its two trackers; once the collector accepted them,
// this script clicks the page's link, which the link-click plugin tracks on both trackers.
// It prints one JSON line: the browser's user agent, the events each tracker had accepted,
// and the cookies the browser holds for the collector. A request the collector did not
// accept, or a page error, exits 1.
'use strict';

const { chromium } = require('playwright-core');

const [executablePath, pageURL, collectorURL] = process.argv.slice(2);
if (!executablePath || !pageURL || !collectorURL) {
  console.error('usage: node browser.js <chromium executable> <page URL> <collector URL>');
  process.exit(2);
}

// On a machine without internet Chromium hangs on its background services without these.
const args = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function main() {
  // launch() gives every run a fresh temporary profile (--user-data-dir).
  const browser = await chromium.launch({ executablePath, headless: true, args, timeout: 60000 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));

    const sentAtLeast = async (n) => {
      await page.waitForFunction((n) => window.failures.length > 0 || (window.sent.post >= n && window.sent.get >= n), n, { timeout: 20000 });
      const failures = await page.evaluate(() => window.failures);
      if (failures.length > 0) {
        throw new Error(`requests the collector did not accept: ${JSON.stringify(failures)}; page errors: ${JSON.stringify(pageErrors)}`);
      }
    };

    await page.goto(pageURL, { waitUntil: 'load' });
    await sentAtLeast(2); // page view, site search
    await page.click('#checkout');
    await sentAtLeast(3); // link click
    if (pageErrors.length > 0) {
      throw new Error(`page errors: ${JSON.stringify(pageErrors)}`);
    }
    const result = {
      userAgent: await page.evaluate(() => navigator.userAgent),
      sent: await page.evaluate(() => window.sent),
      collectorCookies: await context.cookies(collectorURL),
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
