// Accessibility audit run inside the page by browser_test.go. Returns
// {unlabeled, noAlt, lowContrast, contrastChecked, focusable}.
(() => {
  const visible = (el) => {
    if (el.closest('[hidden]')) return false;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  // describe names an element stably across re-renders.
  window.somsDescribe = (el) => {
    if (!el || el === document.body) return 'body';
    if (el.id) return '#' + el.id;
    const name = el.getAttribute('aria-label') || (el.textContent || '').trim().slice(0, 40);
    const href = el.getAttribute('href') || '';
    return `${el.tagName.toLowerCase()}[${href}]"${name}"`;
  };

  const unlabeled = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) unlabeled.push(somsDescribe(el));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!(el.textContent || '').trim() && !el.getAttribute('aria-label')) unlabeled.push(somsDescribe(el) + ' (no accessible name)');
  }
  const noAlt = [];
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) noAlt.push(img.getAttribute('src'));
  for (const svg of document.querySelectorAll('svg[role=img]')) {
    if (!svg.getAttribute('aria-label') && !svg.querySelector('title')) noAlt.push('svg in ' + somsDescribe(svg.parentElement));
  }

  // WCAG relative luminance and contrast.
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const blend = (top, bottom) => {
    const a = top[3];
    return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let color = [255, 255, 255, 1];
    for (const l of layers.reverse()) color = blend(l, color);
    return color;
  };
  const lowContrast = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!(el instanceof HTMLElement) || ['SCRIPT', 'STYLE', 'OPTION', 'AUDIO'].includes(el.tagName)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest('.visually-hidden')) continue;
    const cs = getComputedStyle(el);
    const bg = background(el);
    const fg = blend(parse(cs.color), bg);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    checked++;
    if (ratio < (large ? 3 : 4.5)) lowContrast.push(`${somsDescribe(el)} ${ratio.toFixed(2)}:1 (${cs.color} on rgb(${bg.slice(0, 3).map(Math.round).join(',')}))`);
  }

  const focusable = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
    .filter((el) => el.tabIndex >= 0 && !el.disabled && (visible(el) || el.classList.contains('skip')))
    .map(somsDescribe);
  return { unlabeled, noAlt, lowContrast, contrastChecked: checked, focusable };
})()
