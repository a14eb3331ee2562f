// Sends one call of each kind through the real @segment/analytics-node, as a user's server would, with only the
// host changed (the SDK's default path, /v1/batch). Prints each HTTP exchange the SDK reports as a JSON line.
// Usage: node send.cjs <ingest base URL> <write key> <run id>
'use strict';
const { Analytics } = require('@segment/analytics-node');

const [host, writeKey, run] = process.argv.slice(2);
const analytics = new Analytics({ writeKey, host, maxEventsInBatch: 50, flushInterval: 60000, maxRetries: 0 });
analytics.on('http_request', (r) => console.log(JSON.stringify({ request: r.url })));
analytics.on('http_response', (r) => console.log(JSON.stringify({ status: r.status, url: r.url })));
analytics.on('error', (e) => console.log(JSON.stringify({ error: String(e.reason ?? e.message ?? e) })));

const anonymousId = `anon-${run}`;
const userId = `user-${run}`;
analytics.track({ anonymousId, event: 'Signed Up', properties: { plan: 'Pro', seats: 3 } });
analytics.page({ userId, name: 'Pricing', category: 'Docs', properties: { url: 'https://example.com/pricing?utm_source=sdk', title: 'Pricing' } });
analytics.identify({ userId, traits: { name: 'Zoë Example', plan: 'Pro' } });
analytics.group({ userId, groupId: `acme-${run}`, traits: { name: 'Acme Inc.', employees: 42 } });
analytics.alias({ previousId: anonymousId, userId });
analytics.screen({ userId, name: 'Settings', properties: { tab: 'billing' } });
analytics.closeAndFlush({ timeout: 20000 }).then(() => console.log(JSON.stringify({ done: true })));
