// HTTP calls through the frontend's proxy (same origin) and the signed-in
// person's token, kept in localStorage.

const TOKEN = 'soms.token';
const USER = 'soms.user';

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN) || ''; },
  get user() {
    try { return JSON.parse(localStorage.getItem(USER) || 'null'); } catch { return null; }
  },
  set(token, user) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(USER, JSON.stringify(user));
  },
  clear() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(USER);
  },
};

// api calls path and returns the decoded JSON (null for 204); a non-2xx
// answer throws APIError with the service's {"error"} message.
export async function api(path, { method = 'GET', body, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && session.token) headers.Authorization = 'Bearer ' + session.token;
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!resp.ok) {
    const msg = (data && data.error) || resp.statusText || ('HTTP ' + resp.status);
    throw new APIError(resp.status, msg);
  }
  return data;
}

// info is /frontend.json: which optional parts the server proxies. Behind
// nginx it does not exist; then only the product views are shown.
export async function loadInfo() {
  try {
    const resp = await fetch('/frontend.json', { headers: { Accept: 'application/json' } });
    if (!resp.ok || !(resp.headers.get('Content-Type') || '').includes('json')) throw new Error('none');
    return await resp.json();
  } catch {
    return { brain: false, sim: {}, reports: [] };
  }
}
