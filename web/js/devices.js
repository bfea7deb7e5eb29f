// Device status from heartbeats: online, stale, offline or sleeping, battery.

import { api } from './api.js';
import { h, replace, num, changed } from './dom.js';
import { t, formatTime } from './i18n.js';

let devices = [];
let summary = {};

export async function loadDevices() {
  const d = (await api('/api/devices/status')) || {};
  if (!changed('devices', d)) return;
  devices = d.devices || [];
  summary = d.summary || {};
  devices.sort((a, b) => (a.zone || '').localeCompare(b.zone || '') || a.device_id.localeCompare(b.device_id));
  renderDevices();
}

export function renderDevices() {
  const root = document.getElementById('devices-body');
  if (!devices.length) {
    replace(root, h('p', { class: 'empty', text: t('noDevices') }));
    return;
  }
  const sum = h('p', { class: 'summary' }, Object.entries(summary).map(([k, v]) => h('span', { class: `badge state-${k}`, text: `${t('state_' + k)} ${v}` })));
  const table = h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, [t('device'), t('zone'), t('type'), t('state'), t('battery'), t('lastSeen')].map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, devices.map((d) => h('tr', { dataset: { device: d.device_id, state: d.state } },
      h('th', { scope: 'row', text: d.label || d.device_id }),
      h('td', { text: (d.zone || '').replace(/_/g, ' ') }),
      h('td', { text: d.device_type || '–' }),
      h('td', {}, h('span', { class: `badge state-${d.state}`, text: t('state_' + d.state) })),
      h('td', { class: 'num', text: d.battery_pct === null || d.battery_pct === undefined ? '–' : `${num(d.battery_pct)} %` }),
      h('td', { text: formatTime(d.last_seen, true) })))));
  replace(root, sum, h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': t('devices') }, table));
}
