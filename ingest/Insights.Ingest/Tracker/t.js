// Insights tracker, served by ingest at GET /t.js. Install:
//   <script defer data-site-key="WRITE_KEY" src="https://ingest.example/t.js"></script>
// Optional attributes: data-api (ingest base URL, default: this script's origin), data-cookieless (store
// nothing; ingest derives a daily visitor id), data-ignore-dnt (send even with Do-Not-Track / Global Privacy
// Control; ingest still drops those events for sites that honour the signal).
// API: insights('track', name, props), insights('identify', userId, traits), insights('page'), insights.visitorId(),
// insights('on', 'invitation', fn) (kept as insights.invitation for invite.js, the invitation script).
// Calls made before this script runs are queued by the stub
//   window.insights = window.insights || function () { (insights.q = insights.q || []).push(arguments) }
//
// Served minified (TrackerScript): full-line comments, indentation and spaces next to punctuation outside
// string literals are dropped; line breaks stay, so semicolon-free lines mean the same (a line ending in a comma
// continues). Hence: no comment after code, no space inside a regular expression, no "a + +b". Budget: 1,664 bytes
// gzipped (TrackerScriptTests): declarations share one let where they can, since every byte counts.
// Never throw into the host page: every entry point runs inside try/catch.
!function (w, d, n, h) {
  try {
    // Loaded twice (a tag and Google Tag Manager): the first copy keeps the page.
    if (w.insights?.visitorId) return
    let s = d.currentScript || d.querySelector('script[data-site-key]'),
      a = x => s.getAttribute('data-' + x),
      key = a('site-key')
    if (!key) return
    let api = (a('api') || new URL(s.src).origin) + '/v1/events?key=' + encodeURIComponent(key),
      off = a('ignore-dnt') == null && (n.doNotTrack == 1 || n.globalPrivacyControl),
      // Cookieless or opted out: nothing is stored in the browser.
      none = off || a('cookieless') != null,
      queue = [], timer = 0, fails = 0, K = 'insights_vid', Q = 'insights_q:' + key,
      safe = f => (...x) => { try { return f(...x) } catch {} },
      // Events a refused or unanswered send left behind outlive the page: on leaving while backing off, and after the
      // fifth retry, they go to localStorage insights_q:KEY (the newest 100; per site key, so two sites on one origin
      // never send each other's), and the next send of any page of the site takes them along. Their messageIds make a
      // copy that did arrive count once. Cookieless or opted out: dropped.
      take = () => safe(() => { let x = JSON.parse(localStorage[Q]); delete localStorage[Q]; return x })() || [],
      save = () => { none || safe(() => localStorage[Q] = JSON.stringify([...take(), ...queue].slice(-100)))(); queue = [] },
      iso = () => new Date().toISOString(),
      rid = (x = crypto.getRandomValues(new Uint32Array(4))) => Array.from(x, x => x.toString(36)).join(''),
      // The visitor id: localStorage, else the first-party cookie (storage blocked or cleared), else a new one;
      // written to both. A new one is derived from a secret (see the README, "Visitor id and invitations"): the
      // first 16 bytes of the SHA-256 of 32 random bytes, as rid writes words, the secret kept in localStorage
      // insights_vidk as its eight 32-bit words in decimal, dot-separated, for invite.js to show the invitation
      // channel, which derives the id itself: knowing an id is not enough to receive that visitor's invitations.
      // Where crypto.subtle is missing (insecure contexts) a new id is random and gets no invitations, as do ids
      // stored before. The digest is asynchronous: until it is done, a new visitor's first milliseconds,
      // visitorId() is undefined and events take the id when they are sent (a getter).
      // Cookieless or opted out: a per-page-load id that is never stored (ingest replaces it).
      visitor = none ? rid() : safe(() => {
        let v, x = crypto.getRandomValues(new Uint32Array(8)), c = crypto.subtle, keep = (v, x) => {
          try { localStorage[K] = v; x && (localStorage[K + 'k'] = x) } catch {}
          // 400 days, browsers' cap; SameSite left to the browser's default (the cookie is only ever read by this script).
          d.cookie = K + '=' + v + ';max-age=34560000;path=/' + (isSecureContext ? ';secure' : '')
          return v
        }
        try { v = localStorage[K] } catch {}
        v = v || d.cookie.match(/(^|;\s*)insights_vid=(\w+)/)?.[2]
        if (v || !c) return keep(v || rid())
        c.digest('SHA-256', x).then(h => visitor = keep(rid(new Uint32Array(h, 0, 4)), x))
      })(),
      user, seen, pageId, referrer = d.referrer,
      // The page events describe; set before the first view, so calls queued before load describe it too.
      page = { url: location.href, referrer, title: d.title },
      // Engagement: milliseconds the current page view was visible, counted from `since` while visible.
      engaged = 0,
      since = !d.hidden && Date.now(),
      event = (type, x) => ({
        type,
        source: 'tracker',
        messageId: rid(),
        timestamp: iso(),
        get anonymousId() { return visitor },
        userId: user,
        context: { page, locale: n.language, screen: { width: screen.width, height: screen.height } },
        ...x
      }),
      body = batch => JSON.stringify({ batch, sentAt: iso() }),
      post = batch => fetch(api, { method: 'POST', keepalive: 1, body: body(batch) })
        .then(r => { if (r.status == 429 || r.status > 499) throw r; fails = 0 })
        .catch(r => {
          // 429, 5xx or no answer: back to the front of the queue, sent again after Retry-After or 2^n s; after five
          // retries kept for the next page.
          queue.unshift(...batch)
          clearTimeout(timer)
          ++fails < 6 ? timer = setTimeout(flush, (+r.headers?.get('Retry-After') || 2 ** fails) * 1e3) : save()
        }),
      // fetch with keepalive outlives the page (it is what sendBeacon is made of); text/plain needs no CORS preflight.
      flush = safe(() => {
        clearTimeout(timer)
        timer = 0
        queue.unshift(...take())
        while (queue.length) post(queue.splice(0, 50))
      }),
      push = e => {
        if (off) return
        queue.push(e)
        timer = timer || setTimeout(flush, 500)
      },
      // The engaged time since the last report, as an increment: processors sum engaged_ms per pageview_id.
      engage = () => {
        if (since) engaged += Date.now() - since, since = Date.now()
        if (engaged > 0 && pageId) push(event('track', { event: 'engagement', properties: { engaged_ms: engaged, pageview_id: pageId } }))
        engaged = 0
      },
      view = safe(() => {
        let url = location.href.split('#')[0]
        if (url == seen) return
        // A single-page-app navigation: the page just left is the new page's referrer.
        if (seen) engage(), referrer = page.url
        seen = url
        page = { url: location.href, referrer, title: d.title }
        let e = event('pageview')
        pageId = e.messageId
        push(e)
      }),
      leave = safe(() => {
        engage()
        since = 0
        // Backing off, the page's last send would be refused too: the next page sends it.
        fails && !none ? save() : flush()
      }),
      stub = w.insights,
      insights = w.insights = safe((c, x, y) => c == 'track' ? push(event(c, { event: x, properties: y }))
        : c == 'identify' ? (user = x && x + '', push(event(c, { traits: y })))
        : c == 'on' ? insights[x] = y
        : c == 'page' && view())
    d.addEventListener('visibilitychange', safe(() => d.hidden ? leave() : since = Date.now()))
    w.addEventListener('pagehide', leave)
    w.addEventListener('popstate', view)
    for (let m of ['pushState', 'replaceState']) {
      let o = h[m]
      h[m] = function () {
        try { return o.apply(this, arguments) } finally { view() }
      }
    }
    insights.visitorId = () => none ? null : visitor
    // Calls queued before load first, so an early identify also tags the first page view.
    for (let c of stub?.q || []) insights(...c)
    view()
  } catch {}
}(window, document, navigator, history)
