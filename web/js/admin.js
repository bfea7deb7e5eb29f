// Administrator views: accounts and the brain's decision log. Hidden for
// everyone else (the backend refuses the user list to non-admins anyway).

import { api } from './api.js';
import { h, replace, changed } from './dom.js';
import { t, formatTime } from './i18n.js';

let users = [];
let decisions = [];

export async function loadUsers() {
  users = (await api('/api/users/')) || [];
  if (changed('users', users)) renderAdmin();
  return users;
}

export async function loadDecisions() {
  decisions = (await api('/api/brain/decisions?limit=20')) || [];
  if (changed('decisions', decisions)) renderAdmin();
}

export function renderAdmin() {
  const u = document.getElementById('admin-users');
  replace(u, h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': t('users') }, h('table', { class: 'grid', id: 'users-table' },
    h('thead', {}, h('tr', {}, ['#', t('username'), t('role'), t('active')].map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, users.map((x) => h('tr', { dataset: { user: x.id } },
      h('td', { class: 'num', text: x.id }),
      h('th', { scope: 'row', text: x.display_name ? `${x.display_name} (${x.username})` : x.username }),
      h('td', { text: x.role === 'admin' ? t('roleAdmin') : t('roleUser') }),
      h('td', { text: x.is_active ? t('yes') : t('no') })))))));
  const d = document.getElementById('admin-decisions');
  replace(d, decisions.length
    ? h('ol', { class: 'decisions' }, decisions.map((x) => h('li', { dataset: { id: x.id } },
      h('p', { class: 'meta', text: `${formatTime(x.ts, true)} · ${t('mode')}: ${x.mode} · ${t('outcome')}: ${x.outcome}` }),
      x.trigger_events && x.trigger_events.length ? h('p', { text: x.trigger_events.map((e) => `${e.zone}: ${e.event}`).join(', ') }) : null,
      x.tool_calls && x.tool_calls.length ? h('p', { text: `${t('tools')}: ${x.tool_calls.map((c) => c.tool + (c.success ? '' : ' ✗')).join(', ')}` }) : null,
      x.error ? h('p', { class: 'error', text: x.error }) : null)))
    : h('p', { class: 'empty', text: t('noDecisions') }));
}
