// The office map: one card per zone with its current readings, occupancy and
// the last hour's CO₂ and temperature as small line charts.

import { api } from './api.js';
import { h, replace, num, changed } from './dom.js';
import { t, formatTime } from './i18n.js';

let zones = [];
const trends = new Map(); // "zone/channel" → points

function co2Level(v) {
  if (v === undefined || v === null) return 'ok';
  if (v >= 1500) return 'bad';
  if (v >= 1000) return 'warn';
  return 'ok';
}

// spark draws points as an SVG polyline with a text alternative.
function spark(points, label, unit) {
  const w = 160, hgt = 36;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  const vals = (points || []).map((p) => p.value).filter((v) => typeof v === 'number');
  const last = vals.length ? vals[vals.length - 1] : null;
  svg.setAttribute('aria-label', `${label}: ${vals.length ? `${num(Math.min(...vals))}–${num(Math.max(...vals))} ${unit}` : '–'}`);
  if (vals.length > 1) {
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const pts = vals.map((v, i) => `${(i / (vals.length - 1)) * w},${hgt - 2 - ((v - lo) / span) * (hgt - 4)}`).join(' ');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts);
    svg.append(line);
  }
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = label + (last !== null ? ` (${num(last)} ${unit})` : '');
  svg.prepend(title);
  return svg;
}

function reading(label, value, unit, digits = 0) {
  return h('div', { class: 'reading' }, h('dt', { text: label }), h('dd', {}, num(value, digits), unit ? h('span', { class: 'unit', text: ' ' + unit }) : null));
}

export function renderOffice() {
  const root = document.getElementById('zones');
  if (!zones.length) {
    replace(root, h('p', { class: 'empty', text: t('noZones') }));
    return;
  }
  replace(root, zones.map((z) => {
    const c = z.channels || {};
    const level = co2Level(c.co2);
    return h('article', { class: `zone level-${level}`, dataset: { zone: z.zone }, 'aria-labelledby': `zone-${z.zone}` },
      h('header', {},
        h('h3', { id: `zone-${z.zone}`, text: z.zone.replace(/_/g, ' ') }),
        h('span', { class: `badge level-${level}`, text: t('level_' + level) })),
      h('dl', { class: 'readings' },
        reading(t('people'), z.person_count ?? c.person_count, ''),
        reading(t('co2'), c.co2, 'ppm'),
        reading(t('temperature'), c.temperature, '°C', 1),
        reading(t('humidity'), c.humidity, '%'),
        reading(t('illuminance'), c.illuminance, 'lx')),
      h('div', { class: 'trends' },
        spark(trends.get(`${z.zone}/co2`), t('trendCo2'), 'ppm'),
        spark(trends.get(`${z.zone}/temperature`), t('trendTemp'), '°C')),
      h('p', { class: 'meta', text: `${t('devicesCount', { n: z.devices ?? 0 })} · ${t('updated', { time: formatTime(z.last_update) })}` }));
  }));
}

export async function loadZones() {
  const next = (await api('/api/sensors/zones')) || [];
  next.sort((a, b) => a.zone.localeCompare(b.zone));
  if (!changed('zones', next) && zones.length) return;
  zones = next;
  renderOffice();
}

export async function loadTrends() {
  await Promise.all(zones.flatMap((z) => ['co2', 'temperature'].map(async (ch) => {
    try {
      const s = await api(`/api/sensors/time-series?zone=${encodeURIComponent(z.zone)}&channel=${ch}&since=1h&bucket=2m`);
      trends.set(`${z.zone}/${ch}`, s.points || []);
    } catch { /* a zone without that channel */ }
  })));
  if (changed('trends', [...trends])) renderOffice();
}

export function zoneNames() { return zones.map((z) => z.zone); }
