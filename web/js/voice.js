// What the office said: newest voice events with their audio.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { t, formatTime } from './i18n.js';

let events = [];

export async function loadVoice() {
  events = (await api('/api/voice-events/recent?limit=10')) || [];
  renderVoice();
}

export function addVoice(ev) {
  if (!ev || events.some((e) => e.id === ev.id)) return;
  events = [ev, ...events].slice(0, 10);
  renderVoice();
}

export function renderVoice() {
  const root = document.getElementById('voice-list');
  if (!events.length) {
    replace(root, h('li', { class: 'empty', text: t('noVoice') }));
    return;
  }
  replace(root, events.map((e) => h('li', { class: `voice tone-${e.tone || 'neutral'}`, dataset: { id: e.id } },
    h('p', { class: 'message', lang: 'ja', text: e.message }),
    h('p', { class: 'meta', text: `${formatTime(e.created_at, true)} · ${e.zone ? e.zone.replace(/_/g, ' ') : t('everyZone')} · ${e.tone || 'neutral'}` }),
    e.audio_url ? h('audio', { controls: true, preload: 'none', src: e.audio_url, 'aria-label': t('play', { text: e.message }) }) : null)));
}
