/* The demo host page: asks its server for a connect token, opens the widget with the loader,
 * and shows the events, connections, accounts and transactions. */
(() => {
  'use strict';
  const events = [];
  window.billfoldDemoEvents = events; // read by the browser tests
  const $ = (sel) => document.querySelector(sel);
  const status = (text) => { $('#status').textContent = text; };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function record(type, name, data) {
    events.push({ type, name, data });
    const item = el('li', `${type}${name ? ` ${name}` : ''} ${JSON.stringify(data)}`);
    item.dataset.type = type;
    if (name) item.dataset.name = name;
    $('#events').append(item);
  }

  async function openWidget(connectionId) {
    status('Asking the server for a connect token\u2026');
    const res = await fetch('/connect/demo/token', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(connectionId ? { connection_id: connectionId } : {}) });
    const body = await res.json();
    if (!res.ok) { status(body.error ? body.error.message : 'No token.'); return; }
    status('');
    const mode = document.querySelector('input[name=mode]:checked').value;
    window.BillfoldConnect.open({ token: body.token, clientId: body.client_id, mode,
      onEvent: (name, data) => record('onEvent', name, data),
      onSuccess: (connection) => { record('onSuccess', null, connection); load(connection.id); },
      onExit: (reason, data) => { record('onExit', reason, data); load(); } });
  }
  window.billfoldDemoOpen = openWidget;

  function row(cells) {
    const tr = el('tr');
    for (const c of cells) tr.append(el('td', c));
    return tr;
  }

  async function load(connectionId) {
    const q = connectionId ? `?connection_id=${encodeURIComponent(connectionId)}` : '';
    const res = await fetch(`/connect/demo/data${q}`);
    const body = await res.json();
    if (!res.ok) { status(body.error ? body.error.message : 'No data.'); return; }
    $('#connections').replaceChildren(...body.connections.map((c) => {
      const li = el('li');
      li.dataset.id = c.connection.id;
      li.append(`${c.institution_name} (${c.connection.username || 'no username'}) `,
        el('span', c.connection.status, `status-${c.connection.status}`), ' ');
      const again = el('button', 'Reconnect', 'small');
      again.type = 'button';
      again.setAttribute('aria-label', `Reconnect ${c.institution_name}`);
      again.addEventListener('click', () => openWidget(c.connection.id));
      li.append(again);
      return li;
    }));
    $('#accounts tbody').replaceChildren(...body.accounts.map((a) => {
      const tr = row([`${a.name} \u2022\u2022${a.mask}`, a.type,
        `${a.bill.amount_due != null ? a.bill.amount_due : a.balances.current} ${a.currency}`]);
      tr.dataset.connection = a.connection_id;
      return tr;
    }));
    $('#txn-scope').textContent = connectionId ? '(the new connection)' : '(all connections)';
    $('#transactions tbody').replaceChildren(...body.transactions.map((t) =>
      row([t.date, t.description, `${t.amount} ${t.currency}`])));
  }

  $('#open').addEventListener('click', () => openWidget());
  load();
})();
