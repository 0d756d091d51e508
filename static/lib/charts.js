// Charts drawn with the vendored Apache ECharts (static/vendor/echarts). The library is a
// UMD build, not an ES module, so it is loaded once, as a classic script, when a page first
// draws. A chart area holds one chart that follows its box's width (phones, rotation, the
// menu drawer), a "no data" note in place of an empty chart, and the server's message when
// a request fails.
import { h } from './dom.js';
import { t } from './i18n.js';
import { ApiError } from './api.js';

let loading = null;

export function echartsLib() {
  loading ??= new Promise((resolve, reject) => {
    const script = h('script', { src: new URL('../vendor/echarts/echarts.min.js', import.meta.url).href });
    script.addEventListener('load', () => resolve(window.echarts));
    script.addEventListener('error', () => {
      loading = null;
      script.remove();
      reject(new ApiError(t('charts.loadFailed')));
    });
    document.head.append(script);
  });
  return loading;
}

const BASE = {
  grid: { left: 8, right: 18, top: 34, bottom: 8, containLabel: true },
  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
  animationDuration: 400,
};

/// A bar or line chart over categories. series: [{ name, data, color, type }]; `horizontal`
/// puts the categories down the side, first on top; `zoom` adds a slider for long series.
export function categoryOption({ categories, series, horizontal = false, zoom = false }) {
  const category = { type: 'category', data: categories, axisTick: { alignWithLabel: true } };
  const value = { type: 'value', minInterval: 1 };
  const option = {
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: series.map((s) => ({
      type: s.type || 'bar', name: s.name, data: s.data, itemStyle: { color: s.color },
      ...(s.type === 'line' ? { symbol: 'circle', symbolSize: 7, lineStyle: { width: 2, color: s.color } } : { barMaxWidth: 36 }),
    })),
  };
  if (series.length > 1) option.legend = { top: 0 };
  if (zoom) {
    option.dataZoom = [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 4 }];
    option.grid = { ...BASE.grid, bottom: 34 };
  }
  return option;
}

/// One chart area. `run(load)` awaits `load()`, which answers { option, height } to draw
/// (height in px for charts that grow with their data, else the stylesheet's) or
/// { empty: note } when there is nothing to draw; a later run wins over one still waiting.
export function chartArea(id, label, ctx) {
  const box = h('div', { class: 'chart', id: `chart-${id}`, role: 'img', 'aria-label': label });
  const note = h('p', { class: 'chart-empty', hidden: true });
  const error = h('p', { class: 'form-error chart-error', role: 'alert' });
  const el = h('div', { class: 'chart-area', dataset: { state: 'loading' } }, error, note, box);
  let chart = null;
  let latest = 0;
  let left = false;
  const fit = new ResizeObserver(() => requestAnimationFrame(() => { if (chart && box.clientWidth) chart.resize(); }));
  fit.observe(box);
  ctx.onLeave(() => {
    left = true;
    fit.disconnect();
    chart?.dispose();
  });

  function show(state, { message = '', empty = '' } = {}) {
    el.dataset.state = state;
    error.textContent = message;
    note.textContent = empty;
    note.hidden = state !== 'empty';
    box.hidden = state === 'empty' || state === 'error';
  }

  async function run(load) {
    const mine = ++latest;
    el.classList.add('loading');
    try {
      const [echarts, result] = await Promise.all([echartsLib(), load()]);
      if (mine !== latest || left) return;
      if (result.empty) return show('empty', { empty: result.empty });
      show('drawn');
      box.style.height = result.height ? `${result.height}px` : '';
      chart ??= echarts.init(box);
      chart.resize();
      chart.setOption({ ...BASE, ...result.option }, true);
    } catch (err) {
      if (mine === latest && !left) show('error', { message: err.message });
    } finally {
      if (mine === latest) el.classList.remove('loading');
    }
  }

  return { el, run };
}
