// Simulator control: the shared clock (speed, pause), injecting conditions
// into a zone through the virtual edge, and the scenario reports.

import { api } from './api.js';
import { h, replace, announce } from './dom.js';
import { t, formatTime } from './i18n.js';

let clock = null;
let lastSpeed = 60;
let edgeZones = [];
let info = { sim: {}, reports: [] };

export function setSimInfo(i) { info = i; }
let fetchedAt = 0;

// The clock's speed is a number (simulated seconds per wall second; 0 with
// paused) or "max": as fast as the services allow, no rate to move on at.
function running(c) { return !c.paused && (c.speed === 'max' || c.speed > 0); }

// simNow is the simulated time now: the last reading moved on at its speed
// (the clock is polled every few seconds; the header ticks every second). At
// max there is no rate to extrapolate with: it shows the last reading.
export function simNow() {
  if (!clock) return null;
  const rate = typeof clock.speed === 'number' && !clock.paused ? clock.speed : 0;
  return new Date(new Date(clock.sim_time).getTime() + rate * (Date.now() - fetchedAt));
}
export function simPaused() { return !!clock?.paused; }

export async function loadClock() {
  clock = await api('/api/sim/clock');
  fetchedAt = Date.now();
  if (running(clock)) lastSpeed = clock.speed;
  renderClock();
}

async function setSpeed(speed) {
  clock = await api('/api/sim/clock', { method: 'PUT', body: { speed } });
  fetchedAt = Date.now();
  if (running(clock)) lastSpeed = clock.speed;
  renderClock();
}

// parseSpeed reads the speed field: "max", or a number.
function parseSpeed(v) {
  const s = String(v).trim();
  return s.toLowerCase() === 'max' ? 'max' : Number(s);
}

function say(text, isError = false) {
  const el = document.getElementById('sim-status');
  el.textContent = text;
  el.classList.toggle('error', isError);
  announce(text);
}

function clockText() {
  return formatTime(clock.sim_time, true) + (clock.paused ? ` (${t('paused')})` : ` ×${clock.speed}`);
}

// renderClock builds the clock controls once (full: again, for a new
// language) and afterwards only updates them, so typing is not lost.
export function renderClock(full = false) {
  const root = document.getElementById('sim-clock');
  if (!root || !clock) return;
  const existing = document.getElementById('sim-speed');
  if (existing && !full) {
    document.getElementById('sim-time').textContent = clockText();
    document.getElementById('sim-pause').textContent = clock.paused ? t('resume') : t('pause');
    if (document.activeElement !== existing) existing.value = clock.speed;
    return;
  }
  const speedInput = h('input', { id: 'sim-speed', type: 'text', inputmode: 'decimal', pattern: '[Mm][Aa][Xx]|[0-9]+([.][0-9]+)?', value: clock.speed });
  replace(root,
    h('p', {}, h('span', { class: 'label', text: t('simTime') + ': ' }),
      h('output', { id: 'sim-time', text: clockText() })),
    h('form', {
      class: 'inline', onsubmit: (ev) => {
        ev.preventDefault();
        setSpeed(parseSpeed(speedInput.value)).catch((e) => say(t('error', { msg: e.message }), true));
      },
    },
    h('label', { for: 'sim-speed', text: t('speed') }), speedInput,
    h('button', { type: 'submit', id: 'sim-set-speed', text: t('setSpeed') }),
    h('button', {
      type: 'button', id: 'sim-pause', text: clock.paused ? t('resume') : t('pause'),
      onclick: () => setSpeed(clock.paused ? lastSpeed : 0).catch((e) => say(t('error', { msg: e.message }), true)),
    })));
}

export async function loadEdgeZones() {
  edgeZones = (await api('/api/sim/edge/zones')) || [];
  const sel = document.getElementById('inject-zone');
  if (sel) replace(sel, zoneOptions(sel.value)); // keep what is being typed
  else renderInject();
}

function zoneOptions(chosen) {
  return edgeZones.map((z) => h('option', { value: z.id, selected: z.id === chosen, text: `${z.name || z.id} (${t('people')} ${z.people}, CO₂ ${Math.round(z.co2)})` }));
}

function renderInject() {
  const root = document.getElementById('sim-inject');
  if (!root) return;
  const field = (id, label, attrs) => [h('label', { for: id, text: label }), h('input', { id, type: 'number', ...attrs })];
  const chosen = document.getElementById('inject-zone')?.value;
  replace(root, h('form', {
    id: 'inject-form', class: 'stack', onsubmit: async (ev) => {
      ev.preventDefault();
      const zone = document.getElementById('inject-zone').value;
      const body = {};
      for (const [id, key] of [['inject-people', 'people'], ['inject-co2', 'co2'], ['inject-temp', 'temperature']]) {
        const v = document.getElementById(id).value;
        if (v !== '') body[key] = Number(v);
      }
      try {
        await api(`/api/sim/edge/zones/${encodeURIComponent(zone)}`, { method: 'PATCH', body });
        say(t('applied', { zone: zone.replace(/_/g, ' ') }));
      } catch (e) {
        say(t('error', { msg: e.message }), true);
      }
    },
  },
  h('label', { for: 'inject-zone', text: t('injectZone') }),
  h('select', { id: 'inject-zone' }, zoneOptions(chosen)),
  field('inject-people', t('injectPeople'), { min: 0, max: 500, step: 1 }),
  field('inject-co2', t('injectCo2'), { min: 300, max: 10000, step: 10 }),
  field('inject-temp', t('injectTemp'), { min: -20, max: 60, step: 0.5 }),
  h('button', { type: 'submit', id: 'inject-apply', text: t('apply') })));
}

export function renderReports() {
  const root = document.getElementById('sim-reports');
  if (!root) return;
  replace(root,
    h('p', { class: 'hint', text: t('scenarioHow') }),
    info.reports && info.reports.length
      ? h('ul', {}, info.reports.map((r) => h('li', {}, h('a', { href: r.url, target: '_blank', rel: 'noopener', text: r.name }))))
      : h('p', { class: 'empty', text: t('noReports') }));
}

export function renderSim() {
  renderClock(true);
  renderInject();
  renderReports();
}
