// Camera live view. When the frontend proxies the cameras' HLS server
// (/frontend.json sim.hls, soms camera with CAMERA_HLS=true) each camera
// plays its H.264 stream in a <video> with hls.js (web/vendor, loaded only
// then) or the browser's own HLS: an H.264 camera's own stream, remuxed by
// mediamtx, or for an H.265 or MJPEG camera (which browsers do not play) the
// H.264 its transcoder publishes. Otherwise, and until the video has a
// frame, or after HLS fails, the view shows the latest snapshot.jpg,
// refreshed every two seconds while the page is visible.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';

let cameras = [];
let timer = null;
let hlsOn = false;
let hlsLib = null; // promise of window.Hls or null
// players survive re-renders (language switch, reload of the list) so video keeps playing.
const players = new Map(); // camera id → { fig, img, video, caption, hls, src }

// setCameraHLS says whether /api/sim/hls is proxied (frontend.json sim.hls).
export function setCameraHLS(on) { hlsOn = !!on; }

export async function loadCameras() {
  cameras = (await api('/api/sim/camera/cameras')) || [];
  renderCameras();
  clearInterval(timer);
  timer = setInterval(refresh, 2000);
}

function snapshotURL(id) {
  return `/api/sim/camera/cameras/${encodeURIComponent(id)}/snapshot.jpg?t=${Date.now()}`;
}

// The camera reports http://host:port/{id}/index.m3u8 (a transcoded camera:
// {id}_h264); the browser reaches the same path through the frontend's proxy.
function hlsSource(c) {
  if (!hlsOn || !c.hls) return '';
  try { return '/api/sim/hls' + new URL(c.hls).pathname; } catch { return ''; }
}

function refresh() {
  if (document.hidden) return;
  for (const img of document.querySelectorAll('#camera-list img[data-camera]')) {
    if (img.hidden) continue; // the video is playing
    // Swap only once the next frame has loaded, so the view never blanks.
    const next = new Image();
    next.onload = () => { img.src = next.src; };
    next.src = snapshotURL(img.dataset.camera);
  }
}

function loadHlsLib() {
  if (window.Hls) return Promise.resolve(window.Hls);
  hlsLib ??= new Promise((resolve) => {
    const s = document.createElement('script');
    s.src = '/vendor/hls.light.min.js';
    s.onload = () => resolve(window.Hls || null);
    s.onerror = () => resolve(null);
    document.head.append(s);
  });
  return hlsLib;
}

// fallback returns a camera to snapshots. A network failure (the stream not
// published yet, a publisher or transcoder restarting) retries with a growing pause, so a
// camera that comes up late still goes live without a reload.
function fallback(p, why, retry = false) {
  p.hls?.destroy();
  p.hls = null;
  p.video.dataset.hls = 'failed';
  p.video.title = why;
  p.video.hidden = true;
  p.img.hidden = false;
  clearTimeout(p.retryTimer);
  if (!retry || !p.src) return;
  p.retries = (p.retries || 0) + 1;
  const pause = Math.min(30000, 1000 * 2 ** Math.min(p.retries, 5));
  p.retryTimer = setTimeout(() => {
    if (players.get(p.video.dataset.camera) === p && !p.hls) startHLS(p, p.src);
  }, pause);
}

async function startHLS(p, src) {
  const { video } = p;
  video.dataset.hls = 'loading';
  // The snapshot stays until the video has a frame to show.
  video.addEventListener('loadeddata', () => {
    if (video.dataset.hls === 'failed') return;
    video.dataset.hls = 'playing';
    video.hidden = false;
    p.img.hidden = true;
  }, { once: true });
  const Hls = await loadHlsLib();
  if (Hls?.isSupported()) {
    const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
    hls.on(Hls.Events.ERROR, (_, d) => {
      if (!d.fatal) return;
      if (d.type === Hls.ErrorTypes.MEDIA_ERROR && !p.recovered) {
        p.recovered = true;
        hls.recoverMediaError();
        return;
      }
      fallback(p, `HLS: ${d.type} ${d.details}`, d.type === Hls.ErrorTypes.NETWORK_ERROR);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    p.hls = hls;
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.addEventListener('error', () => fallback(p, 'HLS playback failed'), { once: true });
    video.src = src;
  } else {
    fallback(p, 'this browser cannot play HLS');
    return;
  }
  video.play().catch(() => {}); // muted autoplay; a refusal leaves the snapshot
}

function player(c) {
  let p = players.get(c.id);
  const src = hlsSource(c);
  if (p && p.src === src) return p;
  if (p) fallback(p, 'stream changed');
  const img = h('img', { src: snapshotURL(c.id), dataset: { camera: c.id }, width: 320, height: 240 });
  const video = h('video', { dataset: { camera: c.id, hls: 'off', src }, muted: true, autoplay: true, playsinline: true, width: 320, height: 240, hidden: true });
  video.muted = true; // the attribute alone does not allow autoplay everywhere
  const caption = h('figcaption');
  p = { fig: h('figure', { class: 'camera' }, img, video, caption), img, video, caption, hls: null, src };
  players.set(c.id, p);
  if (src) startHLS(p, src);
  return p;
}

export function renderCameras() {
  const root = document.getElementById('camera-list');
  for (const [id, p] of players) {
    if (!cameras.some((c) => c.id === id)) { clearTimeout(p.retryTimer); p.hls?.destroy(); players.delete(id); }
  }
  if (!cameras.length) {
    replace(root, h('p', { class: 'empty', text: t('noCameras') }));
    return;
  }
  const figs = cameras.map((c) => {
    const p = player(c);
    const zone = (c.zone || '').replace(/_/g, ' ');
    const alt = t('cameraAlt', { id: c.id, zone });
    p.img.alt = alt;
    p.video.setAttribute('aria-label', alt);
    p.caption.textContent = `${c.id} · ${zone} · ${t('people')}: ${c.people ?? '–'}`;
    return p.fig;
  });
  // Re-append only when the set changed: moving a playing <video> restarts it.
  if (root.children.length !== figs.length || figs.some((f, i) => root.children[i] !== f)) replace(root, figs);
}
