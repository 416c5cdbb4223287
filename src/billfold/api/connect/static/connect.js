/* Billfold Connect loader. Include on your page, then:
 *   BillfoldConnect.open({ token, clientId, mode: 'iframe' | 'popup',
 *     onSuccess(connection) {}, onExit(reason, data) {}, onEvent(name, data) {} })
 * `token` comes from your server (POST /v1/connect_tokens); never put an API key in a page.
 * Messages are accepted only from Billfold's origin and the widget's own window. */
(() => {
  'use strict';
  const script = document.currentScript;
  const origin = new URL(script ? script.src : location.href).origin;

  function open(options) {
    const opts = options || {};
    const noop = () => {};
    const onSuccess = opts.onSuccess || noop;
    const onExit = opts.onExit || noop;
    const onEvent = opts.onEvent || noop;
    const mode = opts.mode === 'popup' ? 'popup' : 'iframe';
    const query = new URLSearchParams({ token: opts.token || '', origin: location.origin,
      embed: mode });
    if (opts.clientId) query.set('client_id', opts.clientId);
    const url = `${origin}/connect?${query}`;
    let overlay = null;
    let frame = null;
    let popup = null;
    let watch = 0;
    let done = false;
    const previous = document.activeElement;

    const target = () => (frame ? frame.contentWindow : popup);

    function teardown() {
      done = true;
      window.removeEventListener('message', onMessage);
      clearInterval(watch);
      if (overlay) overlay.remove();
      if (popup && !popup.closed) popup.close();
      if (previous && previous.focus) previous.focus();
    }

    function onMessage(e) {
      if (done || e.origin !== origin || !target() || e.source !== target()) return;
      const m = e.data;
      if (!m || m.source !== 'billfold-connect') return;
      if (m.type === 'event') onEvent(String(m.name), m.data || {});
      else if (m.type === 'success') { teardown(); onSuccess(m.connection); }
      else if (m.type === 'exit') { teardown(); onExit(String(m.reason), m.data || {}); }
    }
    window.addEventListener('message', onMessage);

    if (mode === 'popup') {
      popup = window.open(url, 'billfold-connect', 'popup,width=440,height=720');
      if (!popup) {
        teardown();
        onExit('popup_blocked', {});
        return { close: noop };
      }
      watch = setInterval(() => {
        if (popup.closed && !done) { teardown(); onExit('user_closed', {}); }
      }, 500);
    } else {
      overlay = document.createElement('div');
      overlay.setAttribute('data-billfold-connect', '');
      Object.assign(overlay.style, { position: 'fixed', inset: '0', zIndex: '2147483647',
        background: 'rgba(16, 24, 32, .55)', display: 'flex', alignItems: 'center',
        justifyContent: 'center' });
      frame = document.createElement('iframe');
      frame.title = 'Billfold Connect: link an account';
      frame.src = url;
      Object.assign(frame.style, { width: '100%', maxWidth: '480px', height: '100%',
        maxHeight: '760px', border: '0', background: '#fff', borderRadius: '12px' });
      overlay.append(frame);
      document.body.append(overlay);
      frame.focus();
    }
    return {
      close() {
        const w = target();
        if (!done && w) w.postMessage({ source: 'billfold-host', type: 'close' }, origin);
      },
    };
  }

  window.BillfoldConnect = { open, origin };
})();
