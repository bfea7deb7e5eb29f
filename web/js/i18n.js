// Labels in English and Japanese. The choice is kept in localStorage and
// applied to every element with data-i18n (text) or data-i18n-aria (aria-label).

const STORE = 'soms.lang';

const dict = {
  en: {
    title: 'SOMS office', skip: 'Skip to content', sections: 'Sections', switchLang: 'Switch language to Japanese',
    langButton: '日本語',
    account: 'Account', office: 'Office', tasks: 'Tasks', wallet: 'Wallet', voice: 'Announcements',
    devices: 'Devices', cameras: 'Cameras', sim: 'Simulator', admin: 'Administration',
    username: 'User name', password: 'Password', displayName: 'Display name (optional, for registering)',
    signIn: 'Sign in', register: 'Register', signOut: 'Sign out', signedInAs: 'Signed in as {name}',
    roleAdmin: 'administrator', roleUser: 'member', signInHint: 'Sign in to accept tasks and see your wallet.',
    people: 'People', co2: 'CO₂', temperature: 'Temperature', humidity: 'Humidity', illuminance: 'Light',
    devicesCount: '{n} devices', updated: 'Updated {time}', noZones: 'No readings yet.',
    trendCo2: 'CO₂ over the last hour', trendTemp: 'Temperature over the last hour',
    level_ok: 'Air OK', level_warn: 'Stuffy', level_bad: 'Ventilate now',
    open: 'Open', accepted: 'Accepted', completed: 'Completed', noTasks: 'Nothing here.',
    reward: 'Reward', urgency: 'Urgency', zone: 'Zone', accept: 'Accept', complete: 'Complete',
    reportStatus: 'Report', note: 'Note (optional)', acceptedBy: 'Taken by #{id}', acceptedByYou: 'Taken by you',
    report_no_issue: 'No issue', report_resolved: 'Resolved', report_needs_followup: 'Needs follow-up', report_cannot_resolve: 'Cannot resolve',
    newTask: 'New task: {title}', taskAccepted: 'You accepted “{title}”.', taskCompleted: 'Completed “{title}”. Thank you!',
    balance: 'Balance', credits: 'credits', history: 'History', leaderboard: 'Leaderboard', you: 'you',
    noHistory: 'No payments yet.', walletSignIn: 'Sign in to see your balance.', rank: 'Rank', person: 'Person',
    amount: 'Amount', when: 'When', what: 'What',
    play: 'Play: {text}', noVoice: 'The office has not said anything yet.', everyZone: 'every zone',
    device: 'Device', type: 'Type', state: 'State', battery: 'Battery', lastSeen: 'Last seen',
    state_online: 'online', state_stale: 'stale', state_offline: 'offline', state_sleeping: 'sleeping',
    noDevices: 'No devices have reported yet.', cameraAlt: 'Live view of camera {id} in {zone}', noCameras: 'No camera is configured.',
    clock: 'Clock', simTime: 'Simulated time', speed: 'Speed (× real time)', setSpeed: 'Set speed', pause: 'Pause', resume: 'Resume',
    paused: 'paused', inject: 'Inject a condition', injectZone: 'Zone', injectPeople: 'People in the zone',
    injectCo2: 'CO₂ (ppm)', injectTemp: 'Temperature (°C)', apply: 'Apply', applied: 'Applied to {zone}.',
    scenarios: 'Scenarios', scenarioHow: 'Start a scenario with: soms scenario run scenarios/<file>.yaml — its report appears here.',
    noReports: 'No scenario reports yet.', users: 'Users', decisions: 'Brain decisions', role: 'Role', active: 'Active',
    mode: 'Mode', outcome: 'Outcome', tools: 'Tools', noDecisions: 'No decisions yet.', error: 'Error: {msg}',
    live: 'live', offline: 'reconnecting…', loginFailed: 'Sign-in failed: {msg}', yes: 'yes', no: 'no',
  },
  ja: {
    title: 'SOMS オフィス', skip: '本文へ移動', sections: 'セクション', switchLang: '表示言語を英語に切り替える',
    langButton: 'English',
    account: 'アカウント', office: 'オフィス', tasks: 'タスク', wallet: 'ウォレット', voice: 'アナウンス',
    devices: 'デバイス', cameras: 'カメラ', sim: 'シミュレーター', admin: '管理',
    username: 'ユーザー名', password: 'パスワード', displayName: '表示名（登録時・任意）',
    signIn: 'ログイン', register: '新規登録', signOut: 'ログアウト', signedInAs: '{name} としてログイン中',
    roleAdmin: '管理者', roleUser: 'メンバー', signInHint: 'ログインするとタスクを引き受けてウォレットを確認できます。',
    people: '人数', co2: 'CO₂', temperature: '温度', humidity: '湿度', illuminance: '照度',
    devicesCount: 'デバイス {n} 台', updated: '{time} 更新', noZones: 'まだ計測値がありません。',
    trendCo2: '直近1時間のCO₂', trendTemp: '直近1時間の温度',
    level_ok: '空気良好', level_warn: 'やや悪い', level_bad: '換気してください',
    open: '募集中', accepted: '対応中', completed: '完了', noTasks: 'ありません。',
    reward: '報酬', urgency: '緊急度', zone: 'エリア', accept: '引き受ける', complete: '完了報告',
    reportStatus: '結果', note: 'メモ（任意）', acceptedBy: '#{id} が対応中', acceptedByYou: 'あなたが対応中',
    report_no_issue: '問題なし', report_resolved: '解決済み', report_needs_followup: '要フォロー', report_cannot_resolve: '解決できず',
    newTask: '新しいタスク：{title}', taskAccepted: '「{title}」を引き受けました。', taskCompleted: '「{title}」を完了しました。ありがとうございます！',
    balance: '残高', credits: 'クレジット', history: '履歴', leaderboard: 'ランキング', you: 'あなた',
    noHistory: 'まだ支払いはありません。', walletSignIn: 'ログインすると残高が表示されます。', rank: '順位', person: '人',
    amount: '金額', when: '日時', what: '内容',
    play: '再生：{text}', noVoice: 'まだアナウンスはありません。', everyZone: '全エリア',
    device: 'デバイス', type: '種類', state: '状態', battery: '電池', lastSeen: '最終受信',
    state_online: 'オンライン', state_stale: '応答遅れ', state_offline: 'オフライン', state_sleeping: 'スリープ中',
    noDevices: 'まだデバイスの報告がありません。', cameraAlt: '{zone} のカメラ {id} のライブ映像', noCameras: 'カメラが設定されていません。',
    clock: '時計', simTime: 'シミュレーション時刻', speed: '速度（実時間の倍率）', setSpeed: '速度を設定', pause: '一時停止', resume: '再開',
    paused: '一時停止中', inject: '状況を注入', injectZone: 'エリア', injectPeople: 'エリアの人数',
    injectCo2: 'CO₂（ppm）', injectTemp: '温度（℃）', apply: '適用', applied: '{zone} に適用しました。',
    scenarios: 'シナリオ', scenarioHow: 'シナリオの開始：soms scenario run scenarios/<file>.yaml — レポートはここに表示されます。',
    noReports: 'シナリオのレポートはまだありません。', users: 'ユーザー', decisions: 'ブレインの判断', role: '役割', active: '有効',
    mode: 'モード', outcome: '結果', tools: 'ツール', noDecisions: 'まだ判断はありません。', error: 'エラー：{msg}',
    live: 'ライブ', offline: '再接続中…', loginFailed: 'ログインできませんでした：{msg}', yes: 'はい', no: 'いいえ',
  },
};

let lang = localStorage.getItem(STORE) === 'ja' ? 'ja' : 'en';
const listeners = [];

export function currentLang() { return lang; }

// t looks a label up and fills {name} placeholders.
export function t(key, vars = {}) {
  const s = dict[lang][key] ?? dict.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}

export function setLang(next) {
  lang = next === 'ja' ? 'ja' : 'en';
  localStorage.setItem(STORE, lang);
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.push(fn); }

// applyStatic relabels the page's fixed text.
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = t('title');
}

// formatTime shows a timestamp in the page's language.
export function formatTime(iso, withDate = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const opts = withDate
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit', second: '2-digit' };
  return d.toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo', ...opts });
}
