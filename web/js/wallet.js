// The signed-in person's wallet (balance and history) and the leaderboard,
// read through /api/wallet/ (the backend checks the login: a person reads
// their own wallet, and the leaderboard is for people signed in). Amounts are
// milli-units; shown as credits.

import { api, session, APIError } from './api.js';
import { h, replace, credits, changed } from './dom.js';
import { t, formatTime } from './i18n.js';

let state = { wallet: null, history: [], board: [] };
let names = new Map(); // user id → name, when the viewer may list users

export function setNames(users) {
  names = new Map(users.map((u) => [u.id, u.display_name || u.username]));
}

export async function loadWallet() {
  const me = session.user;
  const board = me ? api('/api/wallet/wallets/leaderboard?limit=10').catch(() => []) : Promise.resolve([]);
  if (me) {
    try {
      state.wallet = await api(`/api/wallet/wallets/${me.id}`);
      const hist = await api(`/api/wallet/wallets/${me.id}/history?limit=10`);
      state.history = (hist && hist.entries) || [];
    } catch (e) {
      // No wallet yet: it opens with the first reward.
      if (!(e instanceof APIError && e.status === 404)) throw e;
      state.wallet = { user_id: me.id, balance: 0 };
      state.history = [];
    }
  } else {
    state.wallet = null;
    state.history = [];
  }
  state.board = (await board) || [];
  if (changed('wallet', [state, me && me.id, [...names]])) renderWallet();
}

export function renderWallet() {
  const me = session.user;
  const root = document.getElementById('wallet-body');
  const balance = me && state.wallet
    ? h('p', { class: 'balance' },
      h('span', { class: 'label', text: t('balance') + ' ' }),
      h('output', { id: 'wallet-balance', dataset: { milli: state.wallet.balance }, 'aria-live': 'polite', text: credits(state.wallet.balance) }),
      h('span', { class: 'unit', text: ' ' + t('credits') }))
    : h('p', { class: 'empty', text: t('walletSignIn') });
  const history = me
    ? h('div', {},
      h('h3', { text: t('history') }),
      state.history.length
        ? h('table', { class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('when') }), h('th', { scope: 'col', text: t('what') }), h('th', { scope: 'col', class: 'num', text: t('amount') }))),
          h('tbody', {}, state.history.map((e) => h('tr', {},
            h('td', { text: formatTime(e.created_at, true) }),
            h('td', { text: e.description || e.kind }),
            h('td', { class: `num ${e.amount < 0 ? 'neg' : 'pos'}`, text: (e.amount > 0 ? '+' : '') + credits(e.amount) })))))
        : h('p', { class: 'empty', text: t('noHistory') }))
    : null;
  const board = me && h('div', {},
    h('h3', { text: t('leaderboard') }),
    h('ol', { class: 'leaderboard', id: 'leaderboard' }, state.board.map((r) => {
      const mine = me && r.user_id === me.id;
      const who = mine ? `${me.display_name || me.username} (${t('you')})` : (names.get(r.user_id) || `#${r.user_id}`);
      return h('li', { class: mine ? 'mine' : '', dataset: { user: r.user_id } },
        h('span', { class: 'rank', text: `${r.rank}.` }), h('span', { class: 'who', text: who }), h('span', { class: 'num', text: credits(r.balance) }));
    })));
  replace(root, balance, history, board);
}
