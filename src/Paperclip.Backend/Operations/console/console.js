// The Paperclip operator's console. Plain JavaScript served by the server itself (no build
// step, no CDN). Credentials: a bearer token from /auth/token, kept in this tab's session
// storage and sent in the Authorization header; never a cookie. Text from the server is only
// ever put in the page as text (textContent), never as HTML.
'use strict';

const TOKEN_KEY = 'paperclip-console-token';
const REFRESH_MS = 1000;
const HISTORY = 60;

const charts = {
  messages: { values: [], color: '#2c6bd6' },
  handshakes: { values: [], color: '#8a3ffc' },
  logins: { values: [], color: '#1f8a4c' },
  sessions: { values: [], color: '#c25e00' },
};
let token = sessionStorage.getItem(TOKEN_KEY);
let previous = null;
let timer = null;

const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

class HttpError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, method = 'GET') {
  const response = await fetch(path, { method, headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (response.status === 401) {
    signOut('Your session has ended: sign in again.');
    throw new HttpError(401);
  }
  if (!response.ok) {
    let detail = '';
    try { detail = (await response.json()).detail || ''; } catch { /* not problem+json */ }
    throw new HttpError(response.status, detail);
  }
  return response.status === 204 ? null : response.json();
}

function basic(username, password) {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

async function signIn(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  const username = $('login-username').value;
  const password = $('login-password').value;
  const response = await fetch('/auth/token', { headers: { Authorization: basic(username, password) }, cache: 'no-store' });
  if (!response.ok) {
    $('login-error').textContent = response.status === 429 ? 'Too many failed logins: wait and try again.' : 'Wrong user name or password.';
    return;
  }
  token = (await response.json()).token;
  $('login-password').value = '';
  await start();
}

async function start() {
  try {
    const me = await api('/console/api/me');
    sessionStorage.setItem(TOKEN_KEY, token);
    $('username').textContent = me.username;
    $('login').hidden = true;
    $('whoami').hidden = false;
    $('main').hidden = false;
    refresh();
  } catch (error) {
    if (error.status === 403) signOut('This account is not an admin.');
    else if (error.status !== 401) signOut(`The server did not answer: ${error.message}`);
  }
}

function signOut(message = '') {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(timer);
  previous = null;
  for (const chart of Object.values(charts)) chart.values = [];
  $('lobbies').replaceChildren();
  $('main').hidden = true;
  $('whoami').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
}

async function refresh() {
  clearTimeout(timer);
  if (!token) return;
  try {
    const [totals, lobbies] = await Promise.all([api('/console/api/metrics'), api('/console/api/lobbies')]);
    updateCharts(totals);
    renderLobbies(lobbies);
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error.status === 401) return;
    $('updated').textContent = `Refresh failed: ${error.message}`;
  }
  if (token) timer = setTimeout(refresh, REFRESH_MS);
}

function updateCharts(totals) {
  const now = performance.now();
  if (previous) {
    const seconds = (now - previous.at) / 1000;
    const rate = (key) => Math.max(0, (totals[key] - previous.totals[key]) / seconds);
    push('messages', rate('messages-received'));
    push('handshakes', rate('handshakes-completed'));
    push('logins', rate('logins-succeeded') + rate('logins-failed') + rate('logins-throttled'));
  }
  push('sessions', totals.sessions);
  previous = { at: now, totals };
}

function push(name, value) {
  const chart = charts[name];
  chart.values.push(value);
  if (chart.values.length > HISTORY) chart.values.shift();
  const shown = value >= 100 ? Math.round(value).toLocaleString() : (Math.round(value * 10) / 10).toString();
  $(`value-${name}`).textContent = shown;
  const canvas = $(`chart-${name}`);
  canvas.dataset.samples = String(chart.values.length);
  draw(canvas, chart);
}

function draw(canvas, chart) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const max = Math.max(1, ...chart.values);
  context.strokeStyle = '#d0d4dc';
  context.beginPath();
  context.moveTo(0, height - 0.5);
  context.lineTo(width, height - 0.5);
  context.stroke();
  context.fillStyle = '#6b7385';
  context.font = '10px sans-serif';
  context.fillText(max >= 100 ? Math.round(max).toLocaleString() : max.toFixed(1), 2, 10);
  if (chart.values.length < 2) return;
  context.strokeStyle = chart.color;
  context.lineWidth = 2;
  context.beginPath();
  chart.values.forEach((value, i) => {
    const x = (i / (HISTORY - 1)) * width;
    const y = height - 2 - (value / max) * (height - 14);
    if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
  });
  context.stroke();
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// Lobbies are updated in place, keyed by lobby and account id: a refresh never replaces a
// button under the operator's pointer, only the text that changed.
function renderLobbies(lobbies) {
  $('lobby-count').textContent = `(${lobbies.length})`;
  $('no-lobbies').hidden = lobbies.length > 0;
  const list = $('lobbies');
  const seen = new Set();
  for (const lobby of lobbies) {
    const id = String(lobby['lobby-id']);
    seen.add(id);
    let card = list.querySelector(`article.lobby[data-lobby-id="${id}"]`);
    if (!card) {
      card = newLobbyCard(id);
      list.append(card);
    }
    updateLobbyCard(card, lobby);
  }
  for (const card of [...list.children]) {
    if (!seen.has(card.dataset.lobbyId)) card.remove();
  }
}

function newLobbyCard(id) {
  const field = (name, className = '') => element('span', { 'data-field': name, className });
  const head = element('div', { className: 'lobby-head' },
    element('span', { className: 'title' }, `Lobby ${id}`),
    field('game', 'game'), field('state', 'state'), field('address'), field('occupancy'), field('reservations'), field('created', 'muted'),
    element('button', { type: 'button', className: 'danger', 'data-action': 'close' }, 'Close lobby'));
  const table = element('table', {},
    element('thead', {}, element('tr', {},
      element('th', {}, 'Player'), element('th', { className: 'number' }, 'RTT'), element('th', { className: 'number' }, 'Loss'),
      element('th', { className: 'number' }, 'Received'), element('th', { className: 'number' }, 'Sent'),
      element('th', { className: 'number' }, 'Dropped'), element('th', {}, 'Connected since'), element('th', {}, ''))),
    element('tbody', {}));
  return element('article', { className: 'lobby', 'data-lobby-id': id }, head, table, element('p', { className: 'muted empty' }, 'No members connected.'));
}

function setText(parent, selector, text) {
  const node = parent.querySelector(selector);
  if (node.textContent !== text) node.textContent = text;
}

function updateLobbyCard(card, lobby) {
  setText(card, '[data-field=game]', lobby.game);
  setText(card, '[data-field=state]', lobby.state);
  card.querySelector('[data-field=state]').className = `state state-${lobby.state}`;
  setText(card, '[data-field=address]', `${lobby.host}:${lobby.port}`);
  setText(card, '[data-field=occupancy]', `${lobby.members.length}/${lobby.size} members`);
  setText(card, '[data-field=reservations]', lobby.reservations.length ? `reserved: ${lobby.reservations.join(', ')}` : '');
  setText(card, '[data-field=created]', `created ${new Date(lobby['created-at']).toLocaleString()}`);
  card.querySelector('table').hidden = lobby.members.length === 0;
  card.querySelector('p.empty').hidden = lobby.members.length > 0;

  const body = card.querySelector('tbody');
  const seen = new Set();
  for (const member of lobby.members) {
    const id = String(member['account-id']);
    seen.add(id);
    let row = body.querySelector(`tr.member[data-account-id="${id}"]`);
    if (!row) {
      const cell = (name, className = '') => element('td', { 'data-field': name, className });
      row = element('tr', { className: 'member', 'data-account-id': id },
        cell('username'), cell('rtt', 'number'), cell('loss', 'number'), cell('received', 'number'), cell('sent', 'number'),
        cell('dropped', 'number'), cell('since'), element('td', {}, element('button', { type: 'button', className: 'danger', 'data-action': 'remove' }, 'Remove')));
      body.append(row);
    }
    const s = member.session;
    setText(row, '[data-field=username]', member.username);
    setText(row, '[data-field=rtt]', s ? `${s['rtt-ms'].toFixed(1)} ms` : '–');
    setText(row, '[data-field=loss]', s ? `${s['loss-percent'].toFixed(1)} %` : '–');
    setText(row, '[data-field=received]', s ? bytes(s['bytes-received']) : '–');
    setText(row, '[data-field=sent]', s ? bytes(s['bytes-sent']) : '–');
    setText(row, '[data-field=dropped]', s ? String(s.dropped) : '–');
    setText(row, '[data-field=since]', s ? new Date(s['connected-since']).toLocaleTimeString() : '–');
    row.querySelector('button[data-action=remove]').hidden = !s;
  }
  for (const row of [...body.children]) {
    if (!seen.has(row.dataset.accountId)) row.remove();
  }
}

// One listener for every button of every lobby, present or future.
function onLobbyClick(event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const lobbyId = button.closest('article.lobby').dataset.lobbyId;
  if (button.dataset.action === 'close') {
    act(`/console/api/lobbies/${lobbyId}/close`, `Lobby ${lobbyId} closed.`);
  } else {
    const row = button.closest('tr.member');
    const name = row.querySelector('[data-field=username]').textContent;
    act(`/console/api/lobbies/${lobbyId}/players/${row.dataset.accountId}/remove`, `${name} removed from lobby ${lobbyId}.`);
  }
}

async function act(path, done) {
  try {
    await api(path, 'POST');
    $('action-status').textContent = done;
  } catch (error) {
    if (error.status !== 401) $('action-status').textContent = `Failed: ${error.message}`;
  }
  refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut());
  $('lobbies').addEventListener('click', onLobbyClick);
  if (token) start();
});
