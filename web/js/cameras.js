// Camera live view: the virtual cameras' latest frames (snapshot.jpg),
// refreshed every two seconds while the page is visible. mediamtx in the
// simulator serves RTSP only, which browsers cannot play.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';

let cameras = [];
let timer = null;

export async function loadCameras() {
  cameras = (await api('/api/sim/camera/cameras')) || [];
  renderCameras();
  clearInterval(timer);
  timer = setInterval(refresh, 2000);
}

function snapshotURL(id) {
  return `/api/sim/camera/cameras/${encodeURIComponent(id)}/snapshot.jpg?t=${Date.now()}`;
}

function refresh() {
  if (document.hidden) return;
  for (const img of document.querySelectorAll('#camera-list img[data-camera]')) {
    // Swap only once the next frame has loaded, so the view never blanks.
    const next = new Image();
    next.onload = () => { img.src = next.src; };
    next.src = snapshotURL(img.dataset.camera);
  }
}

export function renderCameras() {
  const root = document.getElementById('camera-list');
  if (!cameras.length) {
    replace(root, h('p', { class: 'empty', text: t('noCameras') }));
    return;
  }
  replace(root, cameras.map((c) => h('figure', { class: 'camera' },
    h('img', { src: snapshotURL(c.id), alt: t('cameraAlt', { id: c.id, zone: (c.zone || '').replace(/_/g, ' ') }), dataset: { camera: c.id }, width: 320, height: 240 }),
    h('figcaption', { text: `${c.id} · ${(c.zone || '').replace(/_/g, ' ')} · ${t('people')}: ${c.people ?? '–'}` }))));
}
