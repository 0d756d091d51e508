// Calls the system surface: JSON in, the {code, message, data, total} envelope out. A
// failure becomes an ApiError carrying the server's own message, which pages show as is.
import { t } from './i18n.js';

const TOKEN_KEY = 'hearth.token';

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export const auth = {
  token: () => localStorage.getItem(TOKEN_KEY),
  set: (token) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
  /// Set by the app: called when the server says the session is gone.
  onSessionGone: () => {},
};

// The messages the server sends when a token no longer works (see docs/decisions.md).
export const SESSION_GONE = /not logged in|log in again|account is disabled|account is banned/;

/// `body` is sent as JSON, or as multipart when it is a FormData (file uploads).
export async function api(method, path, body) {
  const headers = {};
  const multipart = body instanceof FormData;
  if (body !== undefined && !multipart) headers['Content-Type'] = 'application/json';
  const token = auth.token();
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined || multipart ? body : JSON.stringify(body) });
  } catch (_) {
    throw new ApiError(t('err.network'));
  }
  let answer;
  try {
    answer = await res.json();
  } catch (_) {
    throw new ApiError(t('err.badAnswer', { status: res.status }));
  }
  if (answer.code !== 0) {
    const message = answer.message || t('err.unknown');
    if (token && SESSION_GONE.test(message)) auth.onSessionGone(message);
    throw new ApiError(message, answer.code);
  }
  return answer;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body ?? {});
export const del = (path) => api('DELETE', path);

/// Fetches a file with the token and hands it to the browser as a download. A refusal comes
/// back as the JSON envelope, whose message is thrown like any other.
export async function download(path, filename) {
  let res;
  try {
    res = await fetch(path, { headers: { Authorization: 'Bearer ' + auth.token() } });
  } catch (_) {
    throw new ApiError(t('err.network'));
  }
  if ((res.headers.get('content-type') || '').includes('application/json')) {
    const answer = await res.json();
    throw new ApiError(answer.message || t('err.unknown'), answer.code);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
