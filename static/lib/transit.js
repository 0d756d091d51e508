// Calls the transit surface with the console's own token: transit reads the system JWT as
// `Authorization: Bearer`. Success is code 2000; a refusal is code 1000 with `message`
// (the export's documented refusal also carries it as `msg`), thrown as an ApiError.
import { auth, ApiError, SESSION_GONE } from './api.js';
import { t } from './i18n.js';

const OK = 2000;
// The management list answers at most this many rows per page.
const MOST_PER_PAGE = 1000;

/// GET /transit<path> with the parameters that are set; answers the whole envelope.
export async function transit(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  const token = auth.token();
  let answer;
  try {
    const res = await fetch(`/transit${path}${query ? `?${query}` : ''}`, { headers: { Authorization: `Bearer ${token}` } });
    answer = await res.json().catch(() => { throw new ApiError(t('err.badAnswer', { status: res.status })); });
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError(t('err.network'));
  }
  if (answer.code !== OK) {
    const message = answer.message || answer.msg || t('err.unknown');
    if (token && SESSION_GONE.test(message)) auth.onSessionGone(message);
    throw new ApiError(message, answer.code);
  }
  return answer;
}

/// Every station's name in station-number order (the management list, which administrators hold).
export async function stationNames() {
  const names = [];
  for (let page = 1; ; page++) {
    const answer = await transit('/api/manage/station/list', { action: 'list_station', page, limit: MOST_PER_PAGE });
    names.push(...answer.data.map((s) => s.station_name));
    if (!answer.data.length || names.length >= answer.total) return names;
  }
}

/// The names of the stations in a day's origin–destination pairs (default the latest day),
/// for accounts that may read the charts but not the station list.
export async function stationsWithTrips(date) {
  const pairs = (await transit('/api/echarts/od', { action: 'list_od', date, limit: 10000 })).data;
  const names = new Set(pairs.flatMap((p) => [p.in_station, p.out_station]));
  return [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/// The number of rows a management list holds (its `total`).
export const listTotal = async (path) => String((await transit(path, { page: 1, limit: 1 })).total);
