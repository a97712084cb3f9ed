// Drives @snowplow/node-tracker against a collector.
//
//   node node-tracker.js <collector URL> <run id>
//
// Two trackers send the same events: app "<run id>-post" through a POST emitter that
// batches (bufferSize 3, base64 payloads;
// how the events split into requests depends on timing, so only the sum is fixed) and app "<run id>-get" through a GET emitter
// (plain JSON payloads). On success it prints one JSON line describing every request the
// emitters made; a request the collector did not accept with a 2xx exits 1.
'use strict';

const { newTracker, buildPageView, buildStructEvent, buildSelfDescribingEvent } = require('@snowplow/node-tracker');

const [endpoint, runID] = process.argv.slice(2);
if (!endpoint || !runID) {
  console.error('usage: node node-tracker.js <collector URL> <run id>');
  process.exit(2);
}

const requests = [];
const failures = [];

function emitter(eventMethod, bufferSize) {
  return {
    endpoint,
    eventMethod,
    bufferSize,
    retryFailedRequests: false,
    onRequestSuccess: (batch, response) => requests.push({ method: eventMethod, status: response.status, events: batch.length }),
    onRequestFailure: (failure) => failures.push({ method: eventMethod, status: failure.status, message: failure.message, events: failure.events.length }),
  };
}

const webPage = (id) => ({ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id } });

async function send(tracker, method) {
  tracker.setUserId(`user-${method}`);
  tracker.setDomainUserId('0b7b2a1e-5c2d-4d0e-9f5e-000000000001');
  tracker.setSessionId('0b7b2a1e-5c2d-4d0e-9f5e-000000000002');
  tracker.setSessionIndex(3);
  tracker.setTimezone('Europe/Berlin');
  tracker.setLang('en-GB');
  tracker.setScreenResolution('1920', '1080');

  tracker.track(buildPageView({
    pageUrl: `https://shop.example.test/products?utm_source=node&utm_medium=${method}`,
    pageTitle: 'Products',
    referrer: 'https://www.google.com/search?q=snowplow',
  }), [webPage('11111111-1111-4111-8111-111111111111')]);
  tracker.track(buildStructEvent({ category: 'shop', action: 'add-to-basket', label: 'sku-1', property: 'red', value: 42.5 }));
  tracker.track(buildSelfDescribingEvent({
    event: {
      schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
      data: { targetUrl: `https://shop.example.test/checkout?via=${method}`, elementId: 'checkout', elementClasses: ['btn', 'primary'], elementContent: 'Pay now' },
    },
  }), [
    webPage('22222222-2222-4222-8222-222222222222'),
    { schema: 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1',
      data: { userId: '0b7b2a1e-5c2d-4d0e-9f5e-000000000001', sessionId: '0b7b2a1e-5c2d-4d0e-9f5e-000000000002', sessionIndex: 3, previousSessionId: null, storageMechanism: 'SQLITE' } },
  ]);
  // Four more structured events, so that the POST emitter sends full batches and a remainder.
  for (let i = 0; i < 4; i++) {
    tracker.track(buildStructEvent({ category: 'batch', action: `item-${i}` }));
  }
  await tracker.flush();
}

const eventsPerTracker = 7;

// flush() returns at once while the emitter is still sending an earlier flush, and the
// request callbacks run on a later tick: wait until every event is accounted for.
async function settled(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const count = (list) => list.reduce((n, r) => n + r.events, 0);
  while (failures.length === 0 && count(requests) < 2 * eventsPerTracker) {
    if (Date.now() > deadline) {
      throw new Error(`after ${timeoutMs}ms only ${count(requests)} events were sent, want ${2 * eventsPerTracker}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  const post = newTracker({ namespace: 'post', appId: `${runID}-post` }, emitter('post', 3));
  const get = newTracker({ namespace: 'get', appId: `${runID}-get`, encodeBase64: false }, emitter('get', 1));
  await send(post, 'post');
  await send(get, 'get');
  await settled(10000);
  if (failures.length > 0) {
    console.error('requests the collector did not accept:', JSON.stringify(failures));
    process.exit(1);
  }
  console.log(JSON.stringify({ requests }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
