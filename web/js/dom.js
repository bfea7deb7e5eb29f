// Small DOM helpers: elements are built with textContent, never innerHTML,
// so text from services cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function $(sel, root = document) { return root.querySelector(sel); }

// replace swaps an element's children, keeping focus on a control with the
// same id when the re-render recreates it (keyboard users stay in place).
export function replace(el, ...children) {
  const focused = document.activeElement && el.contains(document.activeElement) ? document.activeElement.id : '';
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  if (focused) document.getElementById(focused)?.focus();
}

// debounce runs fn at most once per wait ms, trailing.
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(...args); }, wait);
  };
}

// announce speaks text to screen readers through the page's live region.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

// credits formats milli-units as credits.
export function credits(milli) {
  const v = Number(milli || 0) / 1000;
  return v.toLocaleString(undefined, { maximumFractionDigits: 3 });
}

// changed reports whether data differs from the last data seen under key,
// so polling re-renders only on news (focus and reading position survive).
const lastSeen = new Map();
export function changed(key, data) {
  const s = JSON.stringify(data);
  if (lastSeen.get(key) === s) return false;
  lastSeen.set(key, s);
  return true;
}

export function num(v, digits = 0) {
  if (v === undefined || v === null || Number.isNaN(Number(v))) return '–';
  return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
