// Transit analytics: the transit surface's figures as charts (passengers by age group,
// trips per day, per month, the busiest origin–destination pairs of a day, one station's
// trips in and out per hour) with their month, date and station pickers; CSV exports.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { download } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { notify } from '../lib/notice.js';
import { chartArea, categoryOption } from '../lib/charts.js';
import { transit, stationNames, stationsWithTrips } from '../lib/transit.js';

const COLORS = { passengers: '#7a5c99', trips: '#b5532a', in: '#2f6db5', out: '#d08a1e' };
// The files the export names (passengers are users.csv, as the import reads them).
const EXPORTS = [['trip', 'trips.csv'], ['station', 'stations.csv'], ['workday', 'workdays.csv'], ['passenger', 'users.csv']];
const TOP = [10, 20, 50];
// agestruct's answer when no passenger has a birth year: nothing to draw rather than a failure.
const NO_AGES = '年龄组成结构查询结果为空';

const hourLabel = (hour) => `${String(hour).padStart(2, '0')}:00`;

async function ages() {
  let answer;
  try {
    answer = await transit('/api/echarts/agestruct', { action: 'age_struct' });
  } catch (err) {
    if (err.message.startsWith(NO_AGES)) return { empty: t('transit.noAges') };
    throw err;
  }
  const value = (group) => answer.data.find((d) => d.name === group)?.value ?? 0;
  return { option: categoryOption({ categories: answer.name, series: [{ name: t('transit.passengers'), data: answer.name.map(value), color: COLORS.passengers }] }) };
}

/// Days (or months) with their trips, oldest first; the server answers newest first.
function perDay(rows, empty, type = 'bar') {
  if (!rows.length) return { empty };
  const oldestFirst = [...rows].reverse();
  return { option: categoryOption({
    categories: oldestFirst.map((r) => r.date),
    series: [{ type, name: t('transit.trips'), data: oldestFirst.map((r) => r.count), color: COLORS.trips }],
    zoom: rows.length > 31,
  }) };
}

async function month({ month }) {
  const rows = (await transit('/api/echarts/month', { action: 'list_month', date: month })).data;
  return perDay(rows, month ? t('transit.noTripsMonth', { month }) : t('transit.noTrips'));
}

async function od({ date, station, limit }) {
  const rows = (await transit('/api/echarts/od', { action: 'list_od', date, station, limit })).data;
  if (!rows.length) return { empty: station ? t('transit.noTripsStationDay', { station, date }) : t('transit.noTripsDay', { date }) };
  return { height: Math.max(300, rows.length * 24 + 70), option: categoryOption({
    horizontal: true,
    categories: rows.map((p) => `${p.in_station} → ${p.out_station}`),
    series: [{ name: t('transit.trips'), data: rows.map((p) => p.count), color: COLORS.trips }],
  }) };
}

async function hourly({ station, date }) {
  const answer = await transit('/api/echarts/realtime', { action: 'station_of_point', station, date });
  if (!answer.in_list.length && !answer.out_list.length) return { empty: t('transit.noTripsStationDay', { station, date }) };
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  const perHour = (list) => hours.map((hour) => list.find((c) => c.hour === hour)?.count ?? 0);
  return { option: categoryOption({
    categories: hours.map(hourLabel),
    series: [
      { name: t('transit.in'), data: perHour(answer.in_list), color: COLORS.in },
      { name: t('transit.out'), data: perHour(answer.out_list), color: COLORS.out },
    ],
  }) };
}

/// The stations to pick from: the station list where the account may read it, else the
/// stations with trips on the latest day (typed, with those as suggestions).
async function stationChoices() {
  try {
    return { names: await stationNames(), listed: true };
  } catch (refused) {
    const names = await stationsWithTrips().catch(() => []);
    return { names, listed: false, note: t('transit.stationsFromTrips', { message: refused.message }) };
  }
}

function stationField(stations, optional) {
  const field = { name: 'station', label: t('transit.station'), required: !optional, value: optional ? '' : stations.names[0] || '' };
  if (!stations.listed) return { ...field, type: 'text', maxLength: 100, placeholder: optional ? t('transit.allStations') : '' };
  const options = stations.names.map((name) => ({ value: name, label: name }));
  return { ...field, type: 'select', options: optional ? [{ value: '', label: t('transit.allStations') }, ...options] : options };
}

const dateField = (value) => ({
  name: 'date', label: t('transit.date'), type: 'date', required: true, value,
  pattern: '\\d{4}-\\d{2}-\\d{2}', patternMessage: t('transit.dateFormat'),
});

/// Pickers that redraw their chart when sent, and whenever a choice changes. A typed
/// station (no station list) gets the known names as suggestions.
function pickers(id, fields, area, load, stations) {
  const built = buildForm({ fields, submitLabel: t('transit.show'), className: 'pickers', onSubmit: (values) => area.run(() => load(values)) });
  built.form.addEventListener('change', () => built.form.requestSubmit());
  const typed = built.form.querySelector('input[name=station]');
  if (typed) {
    typed.setAttribute('list', `stations-${id}`);
    built.form.append(h('datalist', { id: `stations-${id}` }, stations.names.map((name) => h('option', { value: name }))));
  }
  return built;
}

function panel(id, title, hint, area, form) {
  return h('section', { class: 'chart-panel', id: `panel-${id}`, 'aria-labelledby': `title-${id}` },
    h('h2', { id: `title-${id}` }, title), h('p', { class: 'hint' }, hint), form?.form, area.el);
}

function exportButton([model, file]) {
  const label = t(`transit.export.${model}`);
  const button = h('button', { type: 'button', class: 'export', dataset: { model }, onclick: async () => {
    button.disabled = true;
    button.textContent = t('transit.exporting');
    try {
      await download(`/transit/api/exports?model=${model}`, file);
    } catch (err) {
      notify(err.message, 'error');
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  } }, label);
  return button;
}

export default async function transitPage(view, ctx) {
  const head = [h('h1', {}, t('page.transit')), h('p', { class: 'lead' }, t('transit.intro'))];
  clear(view, head, h('p', { class: 'loading-page' }, '…'));
  const [days, stations] = await Promise.all([
    transit('/api/echarts/daily', { action: 'list_daily' }).then((a) => a.data, (err) => err),
    stationChoices(),
  ]);
  const latestDay = Array.isArray(days) && days.length ? days[0].date : '';
  const area = (id) => chartArea(id, t(`transit.${id}`), ctx);
  const charts = { age: area('age'), daily: area('daily'), month: area('month'), od: area('od'), realtime: area('realtime') };

  const monthForm = pickers('month', [{
    name: 'month', label: t('transit.monthField'), type: 'month',
    pattern: '\\d{4}-(0[1-9]|1[0-2])', patternMessage: t('transit.monthFormat'),
  }], charts.month, month, stations);
  const odForm = pickers('od', [
    dateField(latestDay), stationField(stations, true),
    { name: 'limit', label: t('transit.top'), type: 'select', value: TOP[0], options: TOP.map((n) => ({ value: n, label: t('transit.topN', { n }) })) },
  ], charts.od, od, stations);
  const realtimeForm = pickers('realtime', [stationField(stations, false), dateField(latestDay)], charts.realtime, hourly, stations);

  clear(view, head,
    stations.note ? h('p', { class: 'hint', id: 'stations-note' }, stations.note) : null,
    h('div', { class: 'chart-grid' },
      panel('age', t('transit.age'), t('transit.ageHint'), charts.age),
      panel('daily', t('transit.daily'), t('transit.dailyHint'), charts.daily),
      panel('month', t('transit.month'), t('transit.monthPanelHint'), charts.month, monthForm),
      panel('od', t('transit.od'), t('transit.odHint'), charts.od, odForm),
      panel('realtime', t('transit.realtime'), t('transit.realtimeHint'), charts.realtime, realtimeForm)),
    h('section', { class: 'exports', id: 'exports' },
      h('h2', {}, t('transit.exports')), h('p', { class: 'hint' }, t('transit.exportsHint')),
      h('div', { class: 'actions' }, EXPORTS.map(exportButton))));

  // Without any trip there is nothing to ask about a day; the charts say so at once.
  const noTrips = Array.isArray(days) && !days.length;
  const none = (key) => async () => ({ empty: t(key) });
  charts.age.run(ages);
  charts.daily.run(async () => {
    if (days instanceof Error) throw days;
    return perDay(days, t('transit.noTrips'), 'line');
  });
  charts.month.run(() => month(monthForm.values()));
  charts.od.run(noTrips ? none('transit.noTrips') : () => od(odForm.values()));
  if (stations.listed && !stations.names.length) charts.realtime.run(none('transit.noStations'));
  else charts.realtime.run(noTrips ? none('transit.noTrips') : () => hourly(realtimeForm.values()));
}
