/* Billfold Connect widget. Plain JavaScript: no build step, no dependencies.
 * The page trades its single-use token for a widget session (kept in memory only),
 * follows the link job with long polls, and draws one screen per state. */
(() => {
  'use strict';
  const TERMINAL = new Set(['succeeded', 'failed', 'expired', 'cancelled']);
  const KINDS = [['all', 'All'], ['banks', 'Banks'], ['cards', 'Cards'],
    ['utilities', 'Utilities'], ['phone', 'Phone'], ['internet', 'Internet']];
  const KIND_LABEL = { bank: 'Bank', credit_union: 'Credit union', card_issuer: 'Card',
    utility: 'Utility', phone: 'Phone', internet: 'Internet', other_biller: 'Biller' };
  const TYPE_LABEL = { checking: 'Checking', savings: 'Savings', credit_card: 'Credit card',
    loan: 'Loan', mortgage: 'Mortgage', utility: 'Utility bill', phone: 'Phone bill',
    internet: 'Internet bill', other_bill: 'Bill' };
  const STATEMENT_TYPES = [['checking', 'Checking'], ['savings', 'Savings'],
    ['credit_card', 'Credit card']];
  const TOKEN_ERRORS = {
    token_missing: ['No link to open', 'Open Billfold Connect from the app you came from.'],
    token_invalid: ['This link is not valid', 'Go back to the app and start again.'],
    token_used: ['This link was already used',
      'Each link works once. Go back to the app and start again.'],
    token_expired: ['This link has expired',
      'Links work for a few minutes only. Go back to the app and start again.'],
    token_wrong_client: ['This link is for another app',
      'The link was not made for the app that opened it. Go back and start again.'],
    origin_not_allowed: ['This page may not open Billfold Connect',
      'The app has not allowed this page to connect accounts.'],
    session_expired: ['Your session has ended', 'Go back to the app and start again.'],
    session_invalid: ['Your session has ended', 'Go back to the app and start again.'],
  };
  // [title, message, recovery]: "login" asks for the login again, "retry" logs in again as is.
  const FAILURES = {
    invalid_credentials: ['Wrong username or password',
      (n) => `${n} did not accept that login. Check it and try again.`, 'login'],
    invalid_answer: ['That answer was not accepted',
      (n) => `${n} did not accept an answer. Try again; you will be asked again.`, 'retry'],
    answer_timeout: ['Time ran out',
      (n) => `${n} stopped waiting for an answer. Try again when you are ready.`, 'retry'],
    institution_unavailable: ['The institution is unavailable',
      (n) => `${n} is not answering right now. Try again in a few minutes.`, 'retry'],
    action_required: ['Action needed on the institution\u2019s site',
      (n) => `Sign in on ${n}\u2019s own website, do what it asks, then try again.`, 'retry'],
    no_accounts: ['No accounts to link',
      (n) => `This login at ${n} has no accounts that can be linked.`, 'login'],
    needs_relink: ['Sign in again', (n) => `${n} needs you to sign in again.`, 'login'],
    cancelled: ['Connection stopped', () => 'The connection was stopped before it finished.',
      'retry'],
    unknown: ['Something went wrong',
      (n) => `${n} failed in an unexpected way. Trying again usually helps.`, 'retry'],
  };

  const params = new URLSearchParams(location.search);
  const token = params.get('token') || '';
  const embed = params.get('embed') || '';
  const claimedOrigin = params.get('origin') || '';
  const clientId = params.get('client_id') || '';
  history.replaceState(null, '', location.pathname); // the token leaves the address bar
  const host = embed === 'iframe' && window.parent !== window ? window.parent
    : embed === 'popup' && window.opener ? window.opener : null;

  let session = null; // {session, origin, mode, institution, pinned, username, ...}
  let inst = null;
  let job = null;
  let version = '';
  let seq = 0; // grows with every step of the job: an older answer never wins over a newer one
  let pollGen = 0;
  let shownChallenge = null;
  let screen = 'loading';
  let backAction = null;
  let linked = null;
  let kind = 'all';
  let query = '';
  let searchSeq = 0;
  let searchTimer = 0;
  let typed = { institution: null, values: {} }; // non-secret login fields, kept for a retry

  const $ = (sel) => document.querySelector(sel);
  const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  }

  // ----- talking to the host page (origin checked both ways) -----------------------------
  function post(type, payload) {
    const target = session ? session.origin : claimedOrigin;
    if (!host || !target) return;
    host.postMessage({ source: 'billfold-connect', type, ...payload }, target);
  }
  function emit(name, data) { post('event', { name, data: data || {} }); }

  window.addEventListener('message', (e) => {
    if (!host || e.source !== host || !session || e.origin !== session.origin) return;
    if (e.data && e.data.source === 'billfold-host' && e.data.type === 'close') exit('host_closed');
  });

  // ----- the widget's API -------------------------------------------------------------------
  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (session) headers.Authorization = `Bearer ${session.session}`;
    const multipart = body instanceof FormData; // the browser sets its boundary itself
    if (body !== undefined && !multipart) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(`/connect/api${path}`, { method, headers, cache: 'no-store',
        credentials: 'omit',
        body: body === undefined || multipart ? body : JSON.stringify(body) });
    } catch (_) {
      throw { code: 'network', message: 'Billfold could not be reached. Check your connection.' };
    }
    const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (!res.ok) {
      throw { status: res.status, ...((data && data.error) ||
        { code: `http_${res.status}`, message: 'Something went wrong.' }) };
    }
    return data;
  }

  // ----- screens ----------------------------------------------------------------------------
  function show(name, title, kids, opts) {
    const heading = h('h1', { id: 'title', tabindex: '-1', text: title });
    const section = h('section', { class: 'screen', 'data-screen': name,
      'aria-labelledby': 'title', 'data-code': opts && opts.code,
      'data-challenge': opts && opts.challenge }, heading, kids);
    $('#main').replaceChildren(section);
    backAction = (opts && opts.back) || null;
    $('#back').hidden = !backAction;
    screen = name;
    document.title = `${title} \u2013 Billfold Connect`;
    const first = section.querySelector('[data-focus]');
    (first || heading).focus();
  }
  const spinner = () => h('span', { class: 'spinner', 'aria-hidden': 'true' });
  const button = (text, onclick, cls) => h('button', { type: 'button', class: cls || 'secondary',
    onclick, text });
  const instName = () => (inst ? inst.name : 'The institution');

  function formError(form, message, fields) {
    let box = form.querySelector('.alert');
    if (!box) {
      box = h('p', { class: 'alert', role: 'alert' });
      form.prepend(box);
    }
    box.textContent = message;
    for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
    for (const input of fields || []) input.setAttribute('aria-invalid', 'true');
    if (fields && fields[0]) fields[0].focus();
  }
  function setBusy(form, busy) {
    const submit = form.querySelector('[type=submit]');
    if (submit) submit.disabled = busy;
    form.setAttribute('aria-busy', String(busy));
  }

  function tokenError(err) {
    const code = TOKEN_ERRORS[err.code] ? err.code : 'token_invalid';
    const [title, text] = TOKEN_ERRORS[code];
    emit('ERROR', { code });
    const detail = TOKEN_ERRORS[err.code] ? null : err.message;
    show('token-error', title, [h('p', { class: 'alert', text }),
      detail ? h('p', { class: 'muted', text: detail }) : null,
      button('Close', () => exit(code), 'primary')], { code });
  }

  function fatal(err) {
    if (err.code && err.code.startsWith('session_')) return tokenError(err);
    pollGen += 1;
    emit('ERROR', { code: err.code || 'unknown' });
    return show('error', 'Something went wrong', [
      h('p', { class: 'alert', text: err.message || 'Billfold Connect stopped unexpectedly.' }),
      button('Close', () => exit(err.code || 'error'), 'primary')], { code: err.code || 'unknown' });
  }

  function searchScreen() {
    const input = h('input', { id: 'q', type: 'search', autocomplete: 'off', 'data-focus': true,
      'aria-describedby': 'count', placeholder: 'Name of your bank or biller' });
    input.value = query;
    input.addEventListener('input', () => {
      query = input.value;
      clearTimeout(searchTimer);
      searchTimer = setTimeout(runSearch, 150);
    });
    const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Type of institution' },
      KINDS.map(([k, label]) => h('button', { type: 'button', class: 'chip', 'data-kind': k,
        'aria-pressed': String(k === kind), text: label,
        onclick: () => {
          kind = k;
          for (const chip of chips.children) {
            chip.setAttribute('aria-pressed', String(chip.dataset.kind === k));
          }
          runSearch();
        } })));
    show('search', 'Select your institution', [
      h('label', { for: 'q', text: 'Search by name' }), input, chips,
      h('p', { id: 'count', class: 'muted', role: 'status' }),
      h('ul', { id: 'results', class: 'results', 'aria-label': 'Institutions' })]);
    runSearch();
  }

  async function runSearch() {
    const mine = ++searchSeq;
    let found;
    try {
      found = await call('GET', `/institutions?${new URLSearchParams({ query, kind })}`);
    } catch (err) { return fatal(err); }
    if (mine !== searchSeq || screen !== 'search') return undefined;
    $('#results').replaceChildren(...found.data.map((i) => h('li', {},
      h('button', { type: 'button', class: 'inst', 'data-id': i.id, onclick: () => pick(i.id) },
        h('span', { class: 'inst-name', text: i.name }),
        h('span', { class: 'inst-kind', text: KIND_LABEL[i.kind] || i.kind })))));
    const n = found.data.length;
    $('#count').textContent = n ? `${n} result${n === 1 ? '' : 's'}`
      : 'Nothing matches. Try another name or type.';
    return undefined;
  }

  async function pick(id) {
    try {
      inst = await call('GET', `/institutions/${encodeURIComponent(id)}`);
    } catch (err) { return fatal(err); }
    emit('SELECT_INSTITUTION', { institution_id: inst.id, institution_name: inst.name });
    return entryScreen();
  }

  // An institution without a login (the generic "Statement upload") takes files only.
  const filesOnly = () => inst.connector === 'statements' || !inst.login_fields.length;
  const canUpload = () => session.mode !== 'relink';
  const uploadInstead = () => (canUpload() ? button('Upload a statement instead', () => {
    emit('CHOOSE_STATEMENT', { institution_id: inst.id });
    uploadScreen();
  }, 'secondary alt') : null);
  const entryScreen = () => (filesOnly() && canUpload() ? uploadScreen() : loginScreen());

  function loginScreen(note) {
    const relink = session.mode === 'relink';
    const inputs = inst.login_fields.map((f, n) => {
      const input = h('input', { id: `f${n}`, name: f.key, type: f.secret ? 'password' : 'text',
        autocomplete: f.secret ? 'current-password' : 'username', autocapitalize: 'none',
        spellcheck: 'false', 'aria-required': String(f.required) });
      if (!f.secret && typed.institution === inst.id && typed.values[f.key]) {
        input.value = typed.values[f.key];
      } else if (!f.secret && session.username && f.key === 'username') {
        input.value = session.username;
      }
      return input;
    });
    const focus = inputs.find((i) => !i.value) || inputs[0];
    if (focus) focus.setAttribute('data-focus', '');
    const fields = inst.login_fields.map((f, n) => {
      const input = inputs[n];
      input.dataset.label = f.label;
      input.dataset.required = String(f.required);
      return h('div', { class: 'field' }, h('label', { for: `f${n}`, text: f.label }), input);
    });
    const form = h('form', { novalidate: true, onsubmit: submitLogin }, fields,
      h('button', { type: 'submit', class: 'primary', text: relink ? 'Reconnect' : 'Connect' }));
    show('login', `${relink ? 'Reconnect to' : 'Sign in to'} ${inst.name}`, [
      relink ? h('p', { class: 'info', text: 'Your connection needs you to sign in again.' }) : null,
      note ? h('p', { class: 'alert', role: 'alert', text: note }) : null,
      h('p', { class: 'muted', text: `Use the login you use on ${inst.name}\u2019s own website.` }),
      form, uploadInstead()], { back: session.pinned ? null : searchScreen });
  }

  async function submitLogin(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const inputs = [...form.querySelectorAll('input')];
    const missing = inputs.filter((i) => i.dataset.required === 'true' && !i.value.trim());
    if (missing.length) {
      return formError(form, `Enter your ${missing.map((i) => i.dataset.label).join(' and ')}.`,
        missing);
    }
    const credentials = Object.fromEntries(inputs.map((i) => [i.name, i.value]));
    typed = { institution: inst.id, values: Object.fromEntries(
      inputs.filter((i) => i.type !== 'password').map((i) => [i.name, i.value])) };
    setBusy(form, true);
    let started;
    try {
      started = await call('POST', '/link', { institution_id: inst.id, credentials });
    } catch (err) {
      setBusy(form, false);
      return formError(form, err.message || 'That did not work. Try again.');
    }
    emit('SUBMIT_CREDENTIALS', { institution_id: inst.id });
    return follow(started);
  }

  // ----- a statement file instead of a login ------------------------------------------------
  function uploadScreen() {
    const file = h('input', { id: 'file', name: 'file', type: 'file', 'data-focus': true,
      accept: '.csv,.ofx,.qfx,.qif,.xml,.txt', 'aria-describedby': 'file-hint',
      'aria-required': 'true' });
    const type = h('select', { id: 'acct-type', name: 'account_type' },
      STATEMENT_TYPES.map(([v, label]) => h('option', { value: v, text: label })));
    const form = h('form', { novalidate: true, onsubmit: submitStatement },
      h('div', { class: 'field' }, h('label', { for: 'file', text: 'Statement file' }), file,
        h('p', { id: 'file-hint', class: 'muted hint',
          text: 'CSV, OFX, QFX, QIF or CAMT.053 (XML), as your bank\u2019s website exports it.' })),
      h('div', { class: 'field' }, h('label', { for: 'acct-type', text: 'Account type' }), type),
      h('p', { id: 'upload-status', class: 'muted', role: 'status' }),
      h('button', { type: 'submit', class: 'primary', text: 'Upload' }));
    const back = filesOnly() ? (!session.pinned && searchScreen) : () => loginScreen();
    show('upload', `Upload a statement from ${inst.name}`, [
      h('p', { class: 'muted', text: 'Download a statement from your bank\u2019s website, then ' +
        'choose the file here. No login needed.' }), form], { back: back || null });
  }

  async function submitStatement(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const file = form.querySelector('#file');
    if (!file.files.length) return formError(form, 'Choose a statement file.', [file]);
    const body = new FormData();
    body.append('institution_id', inst.id);
    body.append('account_type', form.querySelector('#acct-type').value);
    body.append('file', file.files[0]);
    setBusy(form, true);
    const status = form.querySelector('#upload-status');
    status.replaceChildren(spinner(), 'Reading your statement\u2026');
    let done;
    try {
      done = await call('POST', '/statement', body);
    } catch (err) {
      setBusy(form, false);
      status.textContent = '';
      if (err.status === 401) return fatal(err);
      const why = err.message || 'That file could not be read.';
      formError(form, `${why.charAt(0).toUpperCase()}${why.slice(1)}${/[.!?]$/.test(why) ? ''
        : '.'} Choose another file.`, [file]);
      const box = form.querySelector('.alert');
      box.tabIndex = -1;
      box.dataset.code = err.code || 'unknown';
      box.focus(); // read out first; the file field is next in tab order
      return undefined;
    }
    emit('SUBMIT_STATEMENT', { institution_id: inst.id, format: done.statement.format });
    return linkedScreen(done.connection_id, done.accounts, done.statement);
  }

  // ----- following the job --------------------------------------------------------------------
  function follow(j) {
    shownChallenge = null;
    seq = 0;
    pollGen += 1;
    render(j);
    poll(pollGen);
  }

  async function poll(gen) {
    while (gen === pollGen) {
      let j;
      try {
        j = await call('GET', `/job?${new URLSearchParams({ known: version, wait: '20' })}`);
      } catch (err) {
        if (err.status === 401) return fatal(err);
        await sleep(500);
        continue;
      }
      if (gen !== pollGen) return undefined;
      if (j.version !== version && j.seq >= seq) render(j);
      if (TERMINAL.has(j.status)) return undefined;
    }
    return undefined;
  }

  function render(j) {
    job = j;
    version = j.version;
    seq = j.seq;
    if (j.status === 'succeeded') return successScreen();
    if (TERMINAL.has(j.status)) return failureScreen(j);
    if (j.status === 'waiting_for_answer' && j.challenge) {
      if (shownChallenge === j.challenge.id && screen === j.challenge.kind) return undefined;
      shownChallenge = j.challenge.id;
      emit('CHALLENGE', { kind: j.challenge.kind });
      return challengeScreen(j.challenge);
    }
    if (screen === 'progress') {
      $('#note').textContent = j.note || 'Connecting\u2026';
      return undefined;
    }
    return show('progress', `Connecting to ${instName()}`, [
      h('div', { class: 'big' }, spinner()),
      h('p', { id: 'note', role: 'status', class: 'big', text: j.note || 'Connecting\u2026' }),
      h('p', { class: 'muted big', text: 'This usually takes a few seconds.' })]);
  }

  function field(id, label, attrs, focus) {
    return h('div', { class: 'field' }, h('label', { for: id, text: label }),
      h('input', { id, type: 'text', autocomplete: 'off', autocapitalize: 'none',
        spellcheck: 'false', 'data-focus': focus || null, ...attrs }));
  }

  function choices(options, legend) {
    return h('fieldset', {}, h('legend', { text: legend }),
      h('ul', { class: 'options' }, options.map((o, n) => h('li', {},
        h('label', { class: 'option' }, h('input', { type: 'radio', name: 'option', value: o.id,
          'data-focus': n === 0 || null }), h('span', { text: o.label }))))));
  }

  function challengeScreen(c) {
    const prompt = h('p', { text: c.prompt });
    let title = c.prompt;
    let body = [];
    let submit = 'Continue';
    if (c.kind === 'questions') {
      const qs = c.questions || [];
      title = qs.length > 1 ? 'Answer your security questions' : 'Answer your security question';
      body = [qs.length > 1 ? h('p', { text: `${instName()} asks ${qs.length} questions.` }) : null,
        ...qs.map((q, n) => field(`a${n}`, q, {}, n === 0))];
    } else if (c.kind === 'choice') {
      title = 'Verify it\u2019s you';
      body = [choices(c.options || [], c.prompt)];
      submit = 'Send code';
    } else if (c.kind === 'code') {
      title = 'Enter your code';
      body = [prompt, field('a0', c.code_label || 'Code',
        { inputmode: 'numeric', autocomplete: 'one-time-code' }, true)];
      submit = 'Verify';
    } else if (c.kind === 'approve') {
      title = 'Approve on your other device';
      body = [prompt,
        c.approve_code ? h('p', { class: 'token', 'aria-label': `Token ${c.approve_code}` },
          c.approve_code) : null,
        h('p', { role: 'status', class: 'muted' }, spinner(),
          'Waiting for your approval. This screen moves on by itself once it arrives.')];
      submit = 'I have approved it';
    } else if (c.kind === 'captcha') {
      title = 'Type the characters you see';
      body = [prompt, c.image ? h('img', { class: 'captcha', width: '240',
        src: `data:${c.image.content_type};base64,${c.image.base64}`,
        alt: 'Captcha: distorted characters to type in the field below' }) : null,
      field('a0', 'Characters in the image', {}, true)];
    } else if (c.kind === 'account_select') {
      title = 'Choose an account';
      body = [choices(c.options || [], c.prompt)];
      submit = 'Link this account';
    } else {
      body = [field('a0', 'Answer', {}, true)];
    }
    const form = h('form', { novalidate: true, onsubmit: (e) => submitAnswer(e, c) },
      c.retry_note ? h('p', { class: 'alert', role: 'alert', text: c.retry_note }) : null,
      body, h('button', { type: 'submit', class: 'primary', text: submit }));
    const until = new Date(c.expires_at);
    const hint = Number.isNaN(until.getTime()) ? null : h('p', { class: 'muted hint',
      text: `Please answer by ${until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.` });
    show(c.kind, title, [form, hint], { challenge: c.id });
  }

  async function submitAnswer(e, c) {
    e.preventDefault();
    const form = e.currentTarget;
    let answers;
    if (c.kind === 'approve') {
      answers = ['done'];
    } else if (c.kind === 'choice' || c.kind === 'account_select') {
      const picked = form.querySelector('input[type=radio]:checked');
      if (!picked) {
        return formError(form, 'Choose one of the options.',
          [form.querySelector('input[type=radio]')]);
      }
      answers = [picked.value];
    } else {
      const inputs = [...form.querySelectorAll('input[type=text]')];
      const empty = inputs.filter((i) => !i.value.trim());
      if (empty.length) return formError(form, 'Fill in every answer.', empty);
      answers = inputs.map((i) => i.value);
    }
    setBusy(form, true);
    let next;
    try {
      next = await call('POST', '/answer', { challenge_id: c.id, answers });
    } catch (err) {
      setBusy(form, false);
      if (err.code === 'job_not_waiting' || err.code === 'challenge_mismatch' ||
          err.code === 'challenge_expired') return undefined; // the poll draws what comes next
      return formError(form, err.message || 'That did not work. Try again.');
    }
    emit('SUBMIT_ANSWER', { kind: c.kind });
    if (next.version !== version && next.seq >= seq) render(next); // not older than the poll's
    return undefined;
  }

  function money(a) {
    const value = a.bill && a.bill.amount_due != null ? a.bill.amount_due : a.balances.current;
    if (value == null) return '';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: a.currency })
        .format(Number(value));
    } catch (_) { return `${value} ${a.currency}`; }
  }

  async function successScreen() {
    pollGen += 1;
    let accounts = [];
    try {
      accounts = (await call('GET', '/accounts')).data;
    } catch (_) { accounts = []; }
    linkedScreen(job.connection_id, accounts);
  }

  // A statement's account may have no number: then no mask either.
  const describe = (a) => `${TYPE_LABEL[a.type] || a.type}${a.mask ? ` \u2022\u2022${a.mask}` : ''}`;

  function linkedScreen(connectionId, accounts, imported) {
    linked = { id: connectionId, institution_id: inst.id, institution_name: inst.name,
      accounts: accounts.map((a) => ({ id: a.id, name: a.name, type: a.type, mask: a.mask })) };
    emit('SUCCESS', { connection_id: connectionId, accounts: accounts.length,
      ...(imported ? { source: 'statement' } : {}) });
    const n = imported ? imported.added : 0;
    show('success', `Connected to ${inst.name}`, [
      h('p', { class: 'done', 'aria-hidden': 'true', text: '\u2713' }),
      h('p', { text: `${accounts.length} account${accounts.length === 1 ? '' : 's'} linked.` }),
      imported ? h('p', { class: 'muted', text: `${n} new transaction${n === 1 ? '' : 's'} from ` +
        `your statement${imported.duplicates ? ` (${imported.duplicates} already there)` : ''}.` })
        : null,
      h('ul', { class: 'accounts', 'aria-label': 'Linked accounts' }, accounts.map((a) => h('li', {},
        h('span', { class: 'acct-name', text: a.name }), h('span', { class: 'amount', text: money(a) }),
        h('span', { class: 'muted', text: describe(a) })))),
      h('button', { type: 'button', class: 'primary', 'data-focus': true, text: 'Done',
        onclick: () => finish() })]);
  }

  function failureScreen(j) {
    pollGen += 1;
    let code = (j.error && j.error.code) || 'unknown';
    if (j.status === 'cancelled') code = 'cancelled';
    if (j.status === 'expired' && !j.error) code = 'answer_timeout';
    const [title, text, recovery] = FAILURES[code] || FAILURES.unknown;
    emit('ERROR', { code, status: j.status });
    const again = recovery === 'login'
      ? () => { emit('RETRY', { code }); loginScreen(); }
      : async () => {
        let next;
        try { next = await call('POST', '/retry'); } catch (err) { return fatal(err); }
        emit('RETRY', { code });
        return follow(next);
      };
    show('error', title, [h('p', { class: 'alert', text: text(instName()) }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', 'data-focus': true, text: 'Try again',
          onclick: again }),
        uploadInstead(),
        session.pinned ? null : button('Choose another institution', () => searchScreen()),
        button('Close', () => exit(code)))], { code });
  }

  function finished(text) {
    show('closed', text, [h('p', { text: 'You can close this window.' })]);
  }

  function finish() {
    post('success', { connection: linked });
    if (!host) finished('All done');
  }

  async function exit(reason) {
    if (linked) return finish();
    pollGen += 1;
    if (session && job && !TERMINAL.has(job.status)) {
      try { await call('POST', '/cancel'); } catch (_) { /* closing anyway */ }
    }
    post('exit', { reason, data: { screen, institution_id: inst ? inst.id : null } });
    if (!host) finished('Closed');
    return undefined;
  }

  async function start() {
    $('#close').addEventListener('click', () => exit('user_closed'));
    $('#back').addEventListener('click', () => backAction && backAction());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') exit('user_closed');
    });
    if (!token) return tokenError({ code: 'token_missing' });
    try {
      session = await call('POST', '/session', { token, origin: claimedOrigin || location.origin,
        client_id: clientId || null });
    } catch (err) { return tokenError(err); }
    $('#app-name').textContent = session.client_name || 'the app';
    emit('OPEN', { mode: session.mode,
      institution_id: session.institution ? session.institution.id : null });
    if (session.institution) {
      inst = session.institution;
      return entryScreen();
    }
    return searchScreen();
  }

  start();
})();
