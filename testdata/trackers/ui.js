// Drives snowplow-mini's event browser (/micro/ui) in headless Chromium, driven by
// playwright-core, while the browser tracker sends events from another page.
//
//   node ui.js <chromium executable> <snowplow-mini URL> <tracker page URL> <screenshot dir or ->
//
// Before the tracker page is opened, the test has sent (over HTTP) an event whose page
// title, app_id and self-describing data carry markup, and a link click that fails
// validation. The script checks, in order: the UI shows new events without a reload;
// a filter, a sort and the JSON panel work; a failed event's panel says why it failed;
// a copied view URL opens the same view in a fresh page; nothing in the events ran as
// script. It prints one JSON line of what it saw; a failed check exits 1.
'use strict';

const { chromium } = require('playwright-core');

const [executablePath, base, trackerPage, shots] = process.argv.slice(2);
if (!executablePath || !base || !trackerPage || !shots) {
  console.error('usage: node ui.js <chromium executable> <snowplow-mini URL> <tracker page URL> <screenshot dir or ->');
  process.exit(2);
}

// On a machine without internet Chromium hangs on its background services without these.
const args = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  const browser = await chromium.launch({ executablePath, headless: true, args, timeout: 60000 });
  const result = {};
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
    // Any script that event data smuggles in would set this or open a dialog.
    await context.addInitScript(() => { window.__pwned = 0; });
    const dialogs = [];
    const pageErrors = [];
    const ui = await context.newPage();
    ui.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
    ui.on('pageerror', (err) => pageErrors.push(String(err)));
    const shot = async (page, name) => {
      if (shots !== '-') await page.screenshot({ path: `${shots}/${name}.png` });
    };
    const rowCount = (page) => page.$$eval('#rows tr', (rs) => rs.length);
    const cellTexts = (page, col) => page.$$eval('#rows tr', (rs, col) => {
      const heads = Array.from(document.querySelectorAll('#head th')).map((th) => th.firstChild ? th.firstChild.textContent : '');
      const i = heads.indexOf(col);
      return rs.map((r) => (r.children[i] ? r.children[i].textContent : ''));
    }, col);

    await ui.goto(`${base}/micro/ui?range=all`, { waitUntil: 'load' });
    await ui.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    await ui.evaluate(() => { window.__sameDocument = true; });
    const before = await rowCount(ui);

    // The tracker sends from its own page; the UI shows the events without a reload.
    const tracker = await context.newPage();
    await tracker.goto(trackerPage, { waitUntil: 'load' });
    await tracker.waitForFunction(() => window.failures.length > 0 || (window.sent.post >= 2 && window.sent.get >= 2), null, { timeout: 20000 });
    check((await tracker.evaluate(() => window.failures)).length === 0, 'the tracker had requests refused');
    const appeared = Date.now();
    await ui.waitForFunction((n) => document.querySelectorAll('#rows tr').length >= n + 4, before, { timeout: 15000 });
    result.liveMillis = Date.now() - appeared;
    check(await ui.evaluate(() => window.__sameDocument === true), 'the UI page was reloaded');
    result.rowsAfterTracker = await rowCount(ui);
    await shot(ui, 'events');

    // Filter: only page views.
    await ui.click('#add-filter');
    await ui.fill('#filter-column', 'event');
    await ui.fill('#filter-values', 'page_view');
    await ui.click('#filter-editor button[type="submit"]');
    await ui.waitForFunction(() => {
      const chips = document.querySelectorAll('#filters .chip');
      return chips.length === 1 && document.querySelector('#page-info').textContent !== '';
    });
    await ui.waitForFunction(() => {
      const heads = Array.from(document.querySelectorAll('#head th')).map((th) => th.firstChild ? th.firstChild.textContent : '');
      const i = heads.indexOf('event');
      const rows = Array.from(document.querySelectorAll('#rows tr'));
      return rows.length > 0 && rows.every((r) => r.children[i].textContent === 'page_view');
    }, null, { timeout: 10000 });
    result.filtered = await cellTexts(ui, 'event');

    // Sort by app_id, server-side, ascending then descending.
    await ui.click('#head th:has-text("app_id")');
    await ui.waitForFunction(() => document.querySelector('#head th[aria-sort="ascending"]') !== null);
    await ui.waitForFunction(() => new URLSearchParams(location.search).get('sort') === 'app_id' && document.body.dataset.rendered === location.search);
    const asc = await cellTexts(ui, 'app_id');
    check(asc.join('\n') === asc.slice().sort().join('\n'), `app_id ascending: ${JSON.stringify(asc)}`);
    await ui.click('#head th:has-text("app_id")');
    await ui.waitForFunction(() => new URLSearchParams(location.search).get('sort') === '-app_id' && document.body.dataset.rendered === location.search);
    const desc = await cellTexts(ui, 'app_id');
    check(desc.join('\n') === desc.slice().sort().reverse().join('\n'), `app_id descending: ${JSON.stringify(desc)}`);
    result.sorted = desc;

    // The JSON panel of the first row.
    await ui.click('#rows tr:first-child');
    await ui.waitForSelector('#panel:not([hidden])');
    const json = JSON.parse(await ui.textContent('#panel-json'));
    result.panelEvent = json.event;
    check(json.event === 'page_view' && typeof json.event_id === 'string', 'the JSON panel does not show the page view');
    await ui.click('#panel-copy');

    // The shared URL of this view, opened fresh, shows the same rows and the same event.
    const shared = ui.url();
    result.sharedURL = shared;
    const other = await context.newPage();
    other.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
    await other.goto(shared, { waitUntil: 'load' });
    await other.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    await other.waitForSelector('#panel:not([hidden])', { timeout: 10000 });
    check((await other.$$('#filters .chip')).length === 1, 'the shared view lost its filter');
    check(JSON.parse(await other.textContent('#panel-json')).event_id === json.event_id, 'the shared view opened another event');
    check((await cellTexts(other, 'app_id')).join() === desc.join(), 'the shared view shows other rows');
    await shot(other, 'panel');
    await other.close();

    // Failed events: the reason, in plain words, at the top of the panel.
    await ui.click('#panel-close');
    await ui.click('#filters .chip-x');
    await ui.click('[data-valid="failed"]');
    await ui.waitForFunction(() => {
      const rows = document.querySelectorAll('#rows tr');
      return rows.length > 0 && Array.from(rows).every((r) => r.classList.contains('failed'));
    }, null, { timeout: 10000 });
    await ui.click('#rows tr.failed');
    await ui.waitForSelector('#panel-failure:not([hidden])');
    result.failure = await ui.textContent('#panel-failure');
    await shot(ui, 'failed');
    await ui.click('#panel-close');

    // The Iglu tab lists the schemas the resolver knows and shows one.
    await ui.click('#tab-schemas');
    await ui.waitForSelector('#schema-list li');
    await ui.fill('#schema-search', 'web_page');
    await ui.click('#schema-list li');
    await ui.waitForSelector('#panel:not([hidden])');
    result.schema = JSON.parse(await ui.textContent('#panel-json')).self;
    await shot(ui, 'schemas');
    await ui.click('#tab-events');
    await ui.click('[data-valid="all"]');

    // Markup in event data is shown as text and never runs. The table still holds
    // the failed rows until the "all" view renders, so wait for that view (the
    // markup app_id's row) rather than for any row; on a timeout the check below
    // reports what the table held.
    await ui.waitForFunction(() => document.body.dataset.rendered === location.search &&
      Array.from(document.querySelectorAll('#rows td')).some((td) => td.textContent.includes('<img')),
    null, { timeout: 10000 }).catch(() => {});
    result.markupShown = await ui.evaluate(() => Array.from(document.querySelectorAll('#rows td')).map((td) => td.textContent).filter((t) => t.includes('<')));
    result.injected = await ui.evaluate(() => document.querySelectorAll('#rows img, #rows script, #panel-json *, #panel-failure script, #panel-failure img').length);
    result.pwned = await ui.evaluate(() => window.__pwned);
    result.dialogs = dialogs;
    result.pageErrors = pageErrors;
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
