// One person's journey as a site that already runs Segment-compatible SDKs sends it, with only the host changed:
// the browser side through @segment/analytics-node with the public write key (default path /v1/batch), the shop's
// back end through @rudderstack/rudder-sdk-node with the secret server key (default path /v1/batch, gzip bodies).
// The visitor is anonymous in the browser; the back end knows only the user id, and alias joins the two.
// Prints one JSON line per HTTP answer or error, then {"done":true}.
// Usage: node journey.cjs <ingest base URL> <write key> <server key> <run id>
'use strict';
const { Analytics } = require('@segment/analytics-node');
const RudderAnalytics = require('@rudderstack/rudder-sdk-node');

const [host, writeKey, serverKey, run] = process.argv.slice(2);
const print = (line) => console.log(JSON.stringify(line));
const anonymousId = `anon-${run}`;
const userId = `user-${run}`;

async function browser() {
  const segment = new Analytics({ writeKey, host, maxEventsInBatch: 50, flushInterval: 60000, maxRetries: 0 });
  segment.on('http_response', (r) => print({ sdk: 'segment', status: r.status, url: r.url }));
  segment.on('error', (e) => print({ sdk: 'segment', error: String(e.reason ?? e.message ?? e) }));
  segment.page({
    anonymousId, category: 'Docs', name: 'Pricing',
    properties: { url: 'https://shop.example/pricing?utm_source=newsletter', title: 'Pricing · Shop' },
  });
  segment.track({ anonymousId, event: 'Trial Started', properties: { plan: 'Pro', revenue: 49.5, currency: 'EUR' } });
  segment.screen({ anonymousId, category: 'Account', name: 'Settings', properties: { tab: 'billing' } });
  // A page's own group call is kept as an event but names no company: anyone can send it with the public write key.
  segment.group({ anonymousId, groupId: `claimed-${run}`, traits: { name: `Claimed in the page ${run}`, domain: 'claimed.example' } });
  await segment.closeAndFlush({ timeout: 20000 });
}

async function backEnd() {
  const rudder = new RudderAnalytics(serverKey, {
    dataPlaneUrl: host, flushAt: 50, flushInterval: 60000, retryCount: 0, logLevel: 'error',
    errorHandler: (e) => print({ sdk: 'rudderstack', error: String(e.response?.status ?? e.message ?? e) }),
  });
  const sent = (err) => print(err ? { sdk: 'rudderstack', error: String(err.message ?? err) } : { sdk: 'rudderstack', status: 200 });
  // The visitor's own account, vouched for by the back end (server key) for the browser's anonymous id: its traits
  // make the visit the company's in the company view.
  rudder.group({
    anonymousId, groupId: `acme-${run}`,
    traits: { name: `Acme Bäckerei ${run}`, website: 'https://www.acme-baeckerei.example/about', industry: 'Food', employees: 42 },
  });
  rudder.identify({ userId, traits: { name: 'Zoë Example', email: `zoe-${run}@acme-baeckerei.example`, plan: 'Pro' } });
  rudder.alias({ previousId: anonymousId, userId });
  rudder.page({ userId, name: 'Checkout', category: 'Shop', properties: { url: 'https://shop.example/checkout', title: 'Checkout' } });
  rudder.track({ userId, event: 'Order Completed', properties: { order_id: `o-${run}`, revenue: 120, currency: 'EUR' } }, sent);
  await rudder.flush();
}

browser()
  .then(backEnd)
  .then(() => print({ done: true }))
  .catch((e) => print({ error: String(e && e.stack ? e.stack : e) }));
