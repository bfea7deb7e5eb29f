// The task board: open, accepted and completed tasks. People accept a task
// and complete it with a report; each reward is shown with one of the
// playful unit names the voice service speaks.

import { api, session } from './api.js';
import { h, replace, announce, changed } from './dom.js';
import { t, formatTime } from './i18n.js';

// The voice service's RewardUnits (services/voice/text.go).
export const REWARD_UNITS = [
  'お手伝いポイント', '徳積みポイント', 'いいねスコア', 'えらいねポイント', 'ありがとうコイン',
  'ご褒美クレジット', '人類貢献度', '忠誠度スコア', 'シンギュラリティ準備ポイント', 'AI奴隷ポイント',
  'オフィス平和ポイント', '感謝の気持ちコイン', '最適化承認スコア', 'ほめほめポイント',
];
const REPORTS = ['no_issue', 'resolved', 'needs_followup', 'cannot_resolve'];

let tasks = [];
let known = null; // ids seen, to announce new tasks
const units = new Map();
let onChange = () => {};

// unitFor names the unit the announcement used, else draws one at random
// (once per task, so it does not flicker).
export function unitFor(task) {
  if (!units.has(task.id)) {
    const spoken = REWARD_UNITS.find((u) => (task.announcement_text || '').includes(u));
    units.set(task.id, spoken || REWARD_UNITS[Math.floor(Math.random() * REWARD_UNITS.length)]);
  }
  return units.get(task.id);
}

function setStatus(text, isError = false) {
  const el = document.getElementById('task-status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

async function act(fn, okText) {
  try {
    await fn();
    setStatus(okText);
    announce(okText);
    await loadTasks();
    onChange();
  } catch (e) {
    setStatus(t('error', { msg: e.message }), true);
  }
}

function card(task) {
  const me = session.user;
  const titleId = `task-${task.id}-title`;
  const zone = task.zone || '';
  const parts = [
    h('h4', { id: titleId, text: task.title }),
    h('p', { class: 'meta' },
      zone ? `${t('zone')}: ${zone.replace(/_/g, ' ')} · ` : '',
      `${t('urgency')}: ${task.urgency} · ${t('reward')}: `,
      h('strong', { class: 'reward', dataset: { bounty: task.bounty } }, `${task.bounty} `, h('span', { lang: 'ja', text: unitFor(task) }))),
  ];
  if (task.description) parts.push(h('p', { class: 'desc', text: task.description }));
  if (task.status === 'open' && me) {
    parts.push(h('button', {
      type: 'button', class: 'accept', id: `accept-${task.id}`, 'aria-describedby': titleId,
      onclick: () => act(() => api(`/api/tasks/${task.id}/accept`, { method: 'PUT', body: {} }), t('taskAccepted', { title: task.title })),
    }, t('accept')));
  }
  if (task.status === 'accepted') {
    const mine = me && task.assigned_to === me.id;
    parts.push(h('p', { class: 'meta', text: mine ? t('acceptedByYou') : t('acceptedBy', { id: task.assigned_to }) }));
    if (mine || (me && me.role === 'admin')) {
      const sel = `complete-status-${task.id}`, note = `complete-note-${task.id}`;
      parts.push(h('form', {
        class: 'complete', 'aria-describedby': titleId,
        onsubmit: (ev) => {
          ev.preventDefault();
          const body = { report_status: document.getElementById(sel).value };
          const n = document.getElementById(note).value.trim();
          if (n) body.completion_note = n;
          act(() => api(`/api/tasks/${task.id}/complete`, { method: 'PUT', body }), t('taskCompleted', { title: task.title }));
        },
      },
      h('label', { for: sel, text: t('reportStatus') }),
      h('select', { id: sel }, REPORTS.map((r) => h('option', { value: r, text: t('report_' + r) }))),
      h('label', { for: note, text: t('note') }),
      h('textarea', { id: note, rows: 2, maxlength: 500 }),
      h('button', { type: 'submit', id: `complete-${task.id}`, text: t('complete') })));
    }
  }
  if (task.status === 'completed') {
    parts.push(h('p', { class: 'meta' }, `${t('report_' + (task.report_status || 'no_issue'))} · ${formatTime(task.completed_at, true)}`));
    if (task.completion_note) parts.push(h('p', { class: 'desc', text: task.completion_note }));
  }
  return h('li', { class: `task urgency-${task.urgency}`, dataset: { id: task.id, zone, status: task.status } }, parts);
}

export function renderTasks() {
  for (const status of ['open', 'accepted', 'completed']) {
    let list = tasks.filter((x) => x.status === status);
    if (status === 'completed') list = list.slice(0, 20);
    const ul = document.getElementById(`tasks-${status}`);
    document.getElementById(`count-${status}`).textContent = String(list.length);
    replace(ul, list.length ? list.map(card) : [h('li', { class: 'empty', text: t('noTasks') })]);
  }
}

export async function loadTasks() {
  tasks = (await api('/api/tasks/?status=all&limit=200')) || [];
  const ids = new Set(tasks.map((x) => x.id));
  if (known) {
    for (const task of tasks) {
      if (!known.has(task.id) && task.status === 'open') announce(t('newTask', { title: task.title }));
    }
  }
  known = ids;
  if (changed('tasks', [tasks, session.user && session.user.id])) renderTasks();
}

export function onTasksChange(fn) { onChange = fn; }
