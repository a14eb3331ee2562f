// Insights invitations, served by ingest at GET /invite.js beside t.js. A site that invites visitors to chat adds,
// after the t.js tag:
//   <script async data-site-key="WRITE_KEY" data-channel="https://query.example/v1/sites/SITE/visitor/invitations"
//     src="https://ingest.example/invite.js"></script>
// Optional attributes: data-accept / data-decline (the bubble's button labels, default "Chat now" / "No thanks").
// It opens the visitor's invitation channel on the query API (fetch streaming of Server-Sent Events, POSTed as
// text/plain with the visitor's secret, so no CORS preflight and no secret in a URL), reconnects with back-off,
// closes it while the tab is hidden, and shows each invitation in a small bubble (role="dialog", never taking
// focus; Escape or "No thanks" declines) or hands it to the page's handler:
//   insights('on', 'invitation', ({ id, rule, message, accept, decline }) => ...)
// It reports invitation_shown / invitation_accepted / invitation_declined (properties invitation_id, rule_id) and
// exit_intent (the pointer leaves through the top of the window, once per page URL) through t.js.
// Needs t.js and a visitor id derived from a secret (t.js, secure contexts); otherwise it does nothing.
// Minified like t.js (TrackerScript): no comment after code, no space inside a regular expression.
!function (w, d) {
  try {
    let me = d.currentScript, mark = Symbol.for('insights.invite')
    // Loaded twice: the first copy keeps the page.
    if (!me || w[mark]) return
    w[mark] = 1
    let a = x => me.getAttribute('data-' + x)
    let key = a('site-key'), channel = a('channel')
    if (!key || !channel) return
    let url = channel + '?key=' + encodeURIComponent(key)
    let safe = f => (...x) => { try { return f(...x) } catch {} }
    let track = (name, props) => w.insights?.('track', name, props)
    // The secret t.js keeps beside a derived id: eight 32-bit words, comma-separated.
    let secret = () => { try { return localStorage.insights_vidk } catch {} }
    let seen = new Set(), exitAt, timer, controller, delay = 1, stopped

    let close = safe((bubble, restore) => {
      d.removeEventListener('keydown', bubble.escape, true)
      // Focus goes back where it was only if the visitor had moved it into the bubble.
      if (bubble.root.activeElement) restore?.focus?.()
      bubble.host.remove()
    })
    let show = safe((invitation, accept, decline) => {
      let host = d.createElement('div'), root = host.attachShadow({ mode: 'open' }), before = d.activeElement
      host.setAttribute('data-insights-invitation', invitation.id)
      root.innerHTML = '<style>:host{all:initial}' +
        '.b{position:fixed;right:16px;bottom:16px;z-index:2147483647;box-sizing:border-box;max-width:min(360px,calc(100vw - 32px));' +
        'padding:16px;border:1px solid #8c959f;border-radius:12px;background:#fff;color:#1f2328;' +
        'font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;box-shadow:0 4px 24px rgba(0,0,0,.25)}' +
        'p{margin:0 0 12px;overflow-wrap:anywhere}.r{display:flex;flex-wrap:wrap;gap:8px}' +
        'button{font:inherit;min-height:44px;padding:8px 16px;border:2px solid #0b57d0;border-radius:8px;cursor:pointer}' +
        '.y{background:#0b57d0;color:#fff}.n{background:#fff;color:#0b57d0}' +
        'button:focus-visible{outline:3px solid #1f2328;outline-offset:2px}</style>' +
        '<div class="b" role="dialog" aria-modal="false" aria-labelledby="m"><p id="m" aria-live="polite"></p>' +
        '<div class="r"><button type="button" class="y"></button><button type="button" class="n"></button></div></div>'
      let [yes, no] = root.querySelectorAll('button')
      yes.textContent = a('accept') || 'Chat now'
      no.textContent = a('decline') || 'No thanks'
      let bubble = { host, root }
      let answer = f => safe(() => { close(bubble, before); f() })
      yes.onclick = answer(accept)
      no.onclick = answer(decline)
      bubble.escape = safe(e => e.key == 'Escape' && answer(decline)())
      d.addEventListener('keydown', bubble.escape, true)
      d.body.append(host)
      // Set after insertion, so screen readers announce it (a polite live region), without moving focus.
      setTimeout(() => root.getElementById('m').textContent = invitation.message, 50)
    })
    let offer = safe(invitation => {
      if (!invitation?.id || seen.has(invitation.id)) return
      seen.add(invitation.id)
      let props = { invitation_id: invitation.id, rule_id: invitation.rule ?? null }, answered
      let once = (name, then) => safe(() => {
        if (answered) return
        answered = 1
        track(name, props)
        then?.()
      })
      // Accepting opens the LiveChat widget when the page has one; a page handler decides itself.
      let accept = once('invitation_accepted', () => handler || w.LiveChatWidget?.call?.('maximize'))
      let decline = once('invitation_declined')
      let handler = w.insights?.invitation
      track('invitation_shown', props)
      typeof handler == 'function'
        ? handler({ id: invitation.id, rule: invitation.rule ?? null, message: invitation.message, accept, decline })
        : show(invitation, accept, decline)
    })

    // One connection at a time; a new one (tab shown again) replaces a pending retry.
    let connect = async () => {
      clearTimeout(timer)
      let s = secret()
      if (stopped || controller || d.hidden || !s) return
      let mine = controller = new AbortController(), wait = delay
      try {
        let r = await fetch(url, { method: 'POST', body: s, signal: mine.signal, credentials: 'omit', cache: 'no-store' })
        if (r.status == 200) {
          delay = 1
          let reader = r.body.pipeThrough(new TextDecoderStream()).getReader(), buffer = ''
          for (;;) {
            let { value, done } = await reader.read()
            if (done) break
            buffer += value
            let end
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              let block = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              let data = block.match(/^data:?(.*)$/m)
              if (/^event:?\s*invitation$/m.test(block) && data) offer(JSON.parse(data[1]))
            }
          }
          // The server ends a connection after its maximum time: reconnect soon.
          wait = 1
        } else if (r.status == 429 || r.status > 499) {
          wait = Math.max(+r.headers.get('Retry-After') || 0, delay)
        } else {
          // Refused for good (wrong key, unknown site, malformed secret): retrying cannot help.
          stopped = 1
        }
      } catch {}
      if (controller == mine) controller = 0
      delay = Math.min(delay * 2, 300)
      // Back-off with jitter, so a restarted server is not hit by every page at once.
      if (!d.hidden) timer = setTimeout(connect, wait * (500 + Math.random() * 1e3))
    }
    // Quiet while the tab is hidden: no connection, so an invitation goes to a visitor who can see it.
    d.addEventListener('visibilitychange', safe(() => {
      if (d.hidden) controller?.abort(), controller = 0, clearTimeout(timer)
      else connect()
    }))
    d.addEventListener('mouseout', safe(e => {
      if (!e.relatedTarget && e.clientY <= 0 && exitAt != location.href) exitAt = location.href, track('exit_intent')
    }))
    // t.js may not have run yet, or not know a new visitor's id (its digest is asynchronous): look again for 15 s.
    let tries = 0
    let start = () => w.insights?.visitorId?.() && secret() ? connect() : tries++ < 60 && setTimeout(start, 250)
    start()
  } catch {}
}(window, document)
