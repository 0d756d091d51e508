// Calls the care surface ({id, type, subtype, data} in, {id, status, message, data} out)
// with a care token the console's own session is exchanged for
// (POST /system/api/auth/careSession). The token is kept for this tab and this console
// session; when care says it died (10 idle minutes), a new one is fetched once.
import { auth, post, ApiError } from './api.js';
import { t } from './i18n.js';

const KEY = 'hearth.care';
const BAD_TOKEN = -101;
let asking = null;

// Which console session a saved care token belongs to: the JWT's signature part.
const owner = () => (auth.token() || '').split('.').pop();

export async function careToken({ fresh = false } = {}) {
  const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  if (!fresh && saved && saved.owner === owner()) return saved.token;
  asking ??= post('/system/api/auth/careSession')
    .then((answer) => {
      sessionStorage.setItem(KEY, JSON.stringify({ owner: owner(), token: answer.data.token }));
      return answer.data.token;
    })
    .finally(() => { asking = null; });
  return asking;
}

let nextId = 1;

/// POSTs to /care<path>; answers `data`, or throws an ApiError with care's own message.
export async function care(path, type, subtype, data = {}, retried = false) {
  const token = await careToken({ fresh: retried });
  let answer;
  try {
    const res = await fetch(`/care${path}?token=${encodeURIComponent(token)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: nextId++, type, subtype, data }),
    });
    answer = await res.json().catch(() => { throw new ApiError(t('err.badAnswer', { status: res.status })); });
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError(t('err.network'));
  }
  if (answer.status === BAD_TOKEN && !retried) return care(path, type, subtype, data, true);
  if (answer.status !== 0) throw new ApiError(answer.message || t('err.unknown'), answer.status);
  return answer.data;
}

export const devices = async () => (await care('/api/device', 'device', 'list')).list;
