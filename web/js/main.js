// The dashboard's entry point: account, language, live updates (the
// backend's event stream, plus polling for what has no stream) and the views.

import { api, session, loadInfo } from './api.js';
import { h, replace, debounce } from './dom.js';
import { t, setLang, currentLang, onLangChange, applyStatic, formatTime } from './i18n.js';
import { loadZones, loadTrends, renderOffice } from './office.js';
import { loadTasks, renderTasks, onTasksChange } from './tasks.js';
import { loadWallet, renderWallet, setNames } from './wallet.js';
import { loadVoice, addVoice, renderVoice } from './voice.js';
import { loadDevices, renderDevices } from './devices.js';
import { loadCameras, renderCameras, setCameraHLS } from './cameras.js';
import { setSimInfo, loadClock, loadEdgeZones, renderSim, simNow, simPaused } from './sim.js';
import { loadUsers, loadDecisions, renderAdmin } from './admin.js';

let info = { brain: false, sim: {}, reports: [] };

// quiet runs a loader, showing a failure in the page instead of throwing.
function quiet(name, fn) {
  return async () => {
    try {
      await fn();
      document.getElementById(`${name}-error`)?.replaceChildren();
    } catch (e) {
      const el = document.getElementById(`${name}-error`);
      if (el) el.textContent = t('error', { msg: e.message });
      console.warn(name, e);
    }
  };
}

const refresh = {
  zones: quiet('office', loadZones),
  trends: quiet('office', loadTrends),
  tasks: quiet('tasks', loadTasks),
  wallet: quiet('wallet', loadWallet),
  voice: quiet('voice', loadVoice),
  devices: quiet('devices', loadDevices),
  cameras: quiet('cameras', loadCameras),
  clock: quiet('sim', loadClock),
  edge: quiet('sim', loadEdgeZones),
  admin: quiet('admin', async () => {
    setNames(await loadUsers());
    renderWallet(); // the leaderboard can name people now
    if (info.brain) await loadDecisions();
  }),
};

function isAdmin() { return session.user?.role === 'admin'; }

function showSections() {
  const sim = info.sim || {};
  const anySim = sim.edge || sim.clock || sim.mockllm;
  document.getElementById('cameras').hidden = !sim.camera;
  document.getElementById('sim').hidden = !anySim;
  document.getElementById('sim-clock').hidden = !sim.clock;
  document.getElementById('sim-inject').hidden = !sim.edge;
  document.getElementById('admin').hidden = !isAdmin();
  for (const a of document.querySelectorAll('#nav a')) {
    const target = document.getElementById(a.getAttribute('href').slice(1));
    a.parentElement.hidden = !!target?.hidden;
  }
}

function renderAccount() {
  const root = document.getElementById('account-body');
  const me = session.user;
  if (me) {
    replace(root, h('p', { class: 'signed-in' },
      h('span', { id: 'whoami', dataset: { user: me.id, role: me.role }, text: t('signedInAs', { name: me.display_name || me.username }) + ` (${me.role === 'admin' ? t('roleAdmin') : t('roleUser')}) ` }),
      h('button', { type: 'button', id: 'sign-out', onclick: signOut, text: t('signOut') })));
    return;
  }
  replace(root, h('form', { id: 'login-form', class: 'login', onsubmit: submitLogin },
    h('p', { class: 'hint', text: t('signInHint') }),
    h('div', { class: 'field' }, h('label', { for: 'login-username', text: t('username') }),
      h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, pattern: '[A-Za-z0-9_.\\-]{3,40}' })),
    h('div', { class: 'field' }, h('label', { for: 'login-password', text: t('password') }),
      h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 8, maxlength: 72 })),
    h('div', { class: 'field' }, h('label', { for: 'login-display', text: t('displayName') }),
      h('input', { id: 'login-display', name: 'display_name', autocomplete: 'nickname', maxlength: 100 })),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'login-submit', value: 'login', text: t('signIn') }),
      h('button', { type: 'submit', id: 'register-submit', value: 'register', class: 'secondary', text: t('register') })),
    h('p', { id: 'login-error', class: 'error', role: 'alert' })));
}

async function submitLogin(ev) {
  ev.preventDefault();
  const form = ev.target;
  const register = ev.submitter?.value === 'register';
  const body = { username: form.username.value.trim(), password: form.password.value };
  if (register && form.display_name.value.trim()) body.display_name = form.display_name.value.trim();
  try {
    const tok = await api(register ? '/api/auth/register' : '/api/auth/login', { method: 'POST', body, auth: false });
    session.set(tok.access_token, tok.user);
    afterSessionChange();
    document.getElementById('sign-out')?.focus();
  } catch (e) {
    document.getElementById('login-error').textContent = t('loginFailed', { msg: e.message });
  }
}

function signOut() {
  session.clear();
  afterSessionChange();
  document.getElementById('login-username')?.focus();
}

function afterSessionChange() {
  renderAccount();
  showSections();
  refresh.tasks();
  refresh.wallet();
  if (isAdmin()) refresh.admin();
}

// checkSession drops a token the backend no longer accepts (expired, or a
// restarted backend with a new secret).
async function checkSession() {
  if (!session.token) return;
  try {
    const me = await api('/api/auth/me');
    session.set(session.token, me);
  } catch (e) {
    if (e.status === 401) session.clear();
  }
}

// live subscribes to the backend's event stream; EventSource reconnects by
// itself (the backend asks for 3 s).
function live() {
  const status = document.getElementById('live-status');
  const tasks = debounce(refresh.tasks, 300);
  const wallet = debounce(refresh.wallet, 300);
  const zones = debounce(refresh.zones, 3000);
  const devices = debounce(refresh.devices, 3000);
  const es = new EventSource('/api/events/stream');
  es.onopen = () => { status.textContent = t('live'); status.dataset.state = 'live'; };
  es.onerror = () => { status.textContent = t('offline'); status.dataset.state = 'offline'; };
  for (const type of ['task.created', 'task.updated', 'task.accepted', 'task.completed', 'task.dispatched', 'task.reminded', 'task.expired']) {
    es.addEventListener(type, () => { tasks(); if (type === 'task.completed') wallet(); });
  }
  es.addEventListener('payment.paid', wallet);
  es.addEventListener('sensor.updated', zones);
  es.addEventListener('device.updated', devices);
  es.addEventListener('voice.created', (m) => {
    try { addVoice(JSON.parse(m.data)); } catch { refresh.voice(); }
  });
}

function every(ms, fn) {
  setInterval(() => { if (!document.hidden) fn(); }, ms);
}

function tickClock() {
  const el = document.getElementById('clock');
  if (info.sim?.clock) {
    // A simulation: show its clock, not the wall's.
    const now = simNow();
    el.textContent = `${t('clock')}: ${now ? formatTime(now.toISOString(), true) : '–'}${simPaused() ? ` (${t('paused')})` : ''}`;
    return;
  }
  el.textContent = `${t('clock')}: ${formatTime(new Date().toISOString(), true)}`;
}

function rerender() {
  applyStatic();
  document.getElementById('lang').textContent = t('langButton');
  renderAccount();
  renderOffice();
  renderTasks();
  renderWallet();
  renderVoice();
  renderDevices();
  if (!document.getElementById('cameras').hidden) renderCameras();
  if (!document.getElementById('sim').hidden) renderSim();
  if (isAdmin()) renderAdmin();
  tickClock();
}

async function start() {
  document.getElementById('lang').addEventListener('click', () => setLang(currentLang() === 'ja' ? 'en' : 'ja'));
  onLangChange(rerender);
  applyStatic();
  document.getElementById('lang').textContent = t('langButton');
  info = await loadInfo();
  setSimInfo(info);
  setCameraHLS(info.sim?.hls);
  await checkSession();
  renderAccount();
  showSections();
  if (info.sim?.edge || info.sim?.clock) renderSim();
  onTasksChange(() => refresh.wallet());
  live();
  await Promise.all([refresh.zones(), refresh.tasks(), refresh.wallet(), refresh.voice(), refresh.devices()]);
  refresh.trends();
  if (info.sim?.camera) refresh.cameras();
  if (info.sim?.clock) refresh.clock();
  if (info.sim?.edge) refresh.edge();
  if (isAdmin()) refresh.admin();
  tickClock();
  // Polling covers what has no stream, and a missed event.
  every(10000, refresh.tasks);
  every(10000, refresh.zones);
  every(15000, refresh.wallet);
  every(15000, refresh.devices);
  every(30000, refresh.voice);
  every(60000, refresh.trends);
  if (info.sim?.clock) every(3000, refresh.clock);
  if (info.sim?.edge) every(5000, refresh.edge);
  if (info.brain) every(15000, () => { if (isAdmin()) refresh.admin(); });
  every(1000, tickClock);
  document.body.dataset.ready = 'true';
}

start();
