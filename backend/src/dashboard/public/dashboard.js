// shopml operator dashboard: draws the charts (uPlot) from the page's JSON blocks, and makes the
// forms work without leaving the page. Served as a file (the CSP allows no inline script).
// Credentials: the session cookie (standalone; state changes carry the CSRF token) or, inside
// the Shopify admin, the short-lived dashboard session the page carries, sent as a Bearer header.
(function () {
  'use strict';

  var COLORS = {
    holdout: '#6b7280', champion: '#2563eb', challenger: '#ea580c',
    reference: '#9ca3af', current: '#2563eb', actual: '#111827', forecast: '#2563eb', value: '#059669',
  };
  var BAND = {
    holdout: 'rgba(107,114,128,0.14)', champion: 'rgba(37,99,235,0.16)', challenger: 'rgba(234,88,12,0.16)', forecast: 'rgba(37,99,235,0.18)',
  };

  var config = readJson(document, 'dashboard-config') || {};
  var data = readJson(document, 'dashboard-data') || {};
  var charts = [];

  function readJson(doc, id) {
    var el = doc.getElementById(id);
    return el ? JSON.parse(el.textContent || 'null') : null;
  }

  function headers(extra) {
    var h = {};
    for (var k in extra) h[k] = extra[k];
    if (config.session) h.Authorization = 'Bearer ' + config.session;
    if (config.csrf) h['X-CSRF-Token'] = config.csrf;
    return h;
  }

  function shopQuery() {
    return 'shop=' + encodeURIComponent(config.shop);
  }

  function status(text, isError) {
    var el = document.getElementById('live-status');
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
    el.className = 'notice' + (isError ? ' error' : '');
  }

  // ---------------------------------------------------------------- charts

  function plotSize(el) {
    var width = Math.max(240, Math.floor(el.clientWidth || el.parentNode.clientWidth || 600));
    var small = el.closest('.chart.small');
    var height = small ? 190 : Math.round(Math.min(320, Math.max(210, width * 0.42)));
    return { width: width, height: height };
  }

  function legend(el, items) {
    var fig = el.closest('figure');
    var old = fig.querySelector('.legend');
    if (old) old.remove();
    var ul = document.createElement('ul');
    ul.className = 'legend';
    items.forEach(function (it) {
      var li = document.createElement('li');
      var sw = document.createElement('span');
      sw.className = 'swatch ' + it[0] + (it[2] ? ' ' + it[2] : '');
      li.appendChild(sw);
      li.appendChild(document.createTextNode(it[1]));
      ul.appendChild(li);
    });
    fig.insertBefore(ul, fig.querySelector('figcaption'));
  }

  function mount(el, opts, rows) {
    if (!el || typeof uPlot === 'undefined') return null;
    while (el.firstChild) el.removeChild(el.firstChild);
    var s = plotSize(el);
    opts.width = s.width;
    opts.height = s.height;
    opts.legend = { show: false };
    var u = new uPlot(opts, rows, el);
    charts.push({ u: u, el: el });
    return u;
  }

  var pctAxis = function (digits) {
    return function (u, vals) { return vals.map(function (v) { return v == null ? '' : (v * 100).toFixed(digits) + '%'; }); };
  };

  function aliasChart(el, t) {
    var stepped = uPlot.paths.stepped({ align: 1 });
    var n = t.versions.length;
    mount(el, {
      scales: { x: { time: true }, y: { auto: false, range: [-0.5, n - 0.5] } },
      axes: [
        {},
        {
          size: 92,
          splits: function () { return t.versions.map(function (_v, i) { return i; }); },
          values: function (u, splits) { return splits.map(function (i) { return t.versions[i] ? t.versions[i].slice(0, 10) : ''; }); },
        },
      ],
      series: [
        {},
        { label: 'champion', stroke: COLORS.champion, width: 3, paths: stepped, points: { show: true, size: 6 } },
        { label: 'challenger', stroke: COLORS.challenger, width: 2, dash: [6, 4], paths: stepped, points: { show: true, size: 5 } },
      ],
    }, [t.x, t.champion, t.challenger]);
    legend(el, [['champion', 'champion'], ['challenger', 'challenger', 'dashed']]);
  }

  function conversionChart(el, s) {
    var variants = ['holdout', 'champion', 'challenger'];
    var series = [{}];
    var rows = [s.x];
    var bands = [];
    var few = s.x.length < 3;
    variants.forEach(function (v) {
      var base = series.length;
      series.push({ label: v, stroke: COLORS[v], width: 2, points: { show: few } });
      series.push({ label: v + ' low', stroke: BAND[v], width: 1, points: { show: false } });
      series.push({ label: v + ' high', stroke: BAND[v], width: 1, points: { show: false } });
      rows.push(s.rate[v], s.lo[v], s.hi[v]);
      bands.push({ series: [base + 2, base + 1], fill: BAND[v] });
    });
    mount(el, {
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(0.01, max * 1.1)]; } } },
      axes: [{}, { size: 64, values: pctAxis(1) }],
      series: series,
      bands: bands,
    }, rows);
    legend(el, [['holdout', 'holdout'], ['champion', 'champion'], ['challenger', 'challenger'], ['band', '95% interval']]);
  }

  function edgeLabel(edges, i) {
    var f = function (x) { return x >= 1000 ? (x / 1000) + 'k' : String(x); };
    if (edges[i + 1] >= 1e300) return '≥' + f(edges[i]);
    return f(edges[i]) + '–' + f(edges[i + 1]);
  }

  function histogramChart(el, h, names) {
    var k = h.reference.length;
    var idx = h.reference.map(function (_x, i) { return i; });
    var labels = h.labels || idx.map(function (i) { return edgeLabel(h.edges, i); });
    var max = Math.max.apply(null, h.reference.concat(h.current).concat([0.01]));
    mount(el, {
      scales: { x: { time: false, range: [-0.5, k - 0.5] }, y: { range: [0, max * 1.12] } },
      axes: [
        {
          splits: function () { return idx; },
          // Every label when they fit, else every n-th (a 20-bin histogram on a phone).
          values: function (u, sp) {
            var step = Math.max(1, Math.ceil(k / Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 34))));
            return sp.map(function (i) { return i % step === 0 ? (labels[i] || '') : ''; });
          },
          rotate: k > 6 ? -40 : 0, size: k > 6 ? 58 : 36,
        },
        { size: 52, values: h.counts ? undefined : pctAxis(0) },
      ],
      series: [
        {},
        { label: names[0], stroke: COLORS.reference, fill: 'rgba(156,163,175,0.55)', width: 1, paths: uPlot.paths.bars({ size: [0.42, 60], align: -1 }), points: { show: false } },
        { label: names[1], stroke: COLORS.current, fill: 'rgba(37,99,235,0.55)', width: 1, paths: uPlot.paths.bars({ size: [0.42, 60], align: 1 }), points: { show: false } },
      ],
    }, [idx, h.reference, h.current]);
    legend(el, [['reference', names[0]], ['current', names[1]]]);
  }

  function segmentsChart(el, s) {
    var idx = s.names.map(function (_x, i) { return i; });
    var k = idx.length;
    mount(el, {
      scales: { x: { time: false, range: [-0.5, k - 0.5] }, y: { range: function (u, min, max) { return [0, max * 1.12]; } }, spend: { range: function (u, min, max) { return [0, Math.max(1, max * 1.12)]; } } },
      axes: [
        { splits: function () { return idx; }, values: function (u, sp) { return sp.map(function (i) { return s.names[i] || ''; }); }, rotate: k > 4 ? -30 : 0, size: k > 4 ? 70 : 36 },
        { size: 52 },
        { scale: 'spend', side: 1, size: 64, grid: { show: false } },
      ],
      series: [
        {},
        { label: 'customers', stroke: COLORS.champion, fill: 'rgba(37,99,235,0.55)', paths: uPlot.paths.bars({ size: [0.6, 90] }), points: { show: false } },
        { label: 'predicted spend', scale: 'spend', stroke: COLORS.value, width: 2, points: { show: true, size: 8, fill: COLORS.value } },
      ],
    }, [idx, s.customers, s.predictedSpend]);
    legend(el, [['current', 'customers (left)'], ['value', 'predicted spend (right)']]);
  }

  function forecastChart(el, f) {
    mount(el, {
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
      axes: [{}, { size: 52 }],
      series: [
        {},
        { label: 'ordered', stroke: COLORS.actual, width: 2, points: { show: true, size: 4 } },
        { label: 'forecast', stroke: COLORS.forecast, width: 2, dash: [5, 3], points: { show: true, size: 4 } },
        { label: 'low', stroke: BAND.forecast, width: 1, points: { show: false } },
        { label: 'high', stroke: BAND.forecast, width: 1, points: { show: false } },
      ],
      bands: [{ series: [4, 3], fill: BAND.forecast }],
    }, [f.x, f.actual, f.mean, f.lo, f.hi]);
    legend(el, [['actual', 'units ordered per week'], ['forecast', 'forecast', 'dashed'], ['band', Math.round(f.intervalLevel * 100) + '% interval']]);
  }

  function driftShareChart(el, s) {
    mount(el, {
      scales: { x: { time: true }, y: { range: [0, 1] } },
      axes: [{}, { size: 52, values: pctAxis(0) }],
      series: [
        {},
        { label: 'drift share', stroke: COLORS.challenger, width: 2, points: { show: true, size: 6 } },
        { label: 'threshold', stroke: COLORS.holdout, width: 1, dash: [4, 4], points: { show: false } },
      ],
    }, [s.x, s.share, s.threshold]);
    legend(el, [['challenger', 'share of drifted columns'], ['holdout', 'threshold', 'dashed']]);
  }

  function drawAll() {
    charts.forEach(function (c) { c.u.destroy(); });
    charts = [];
    var q = function (name) { return document.querySelector('[data-chart="' + name + '"]'); };
    (data.aliasTimelines || []).forEach(function (t) { aliasChart(q('alias-' + t.kind), t); });
    (data.conversion || []).forEach(function (c) { if (c.series.x.length) conversionChart(q('conversion-' + c.id), c.series); else placeholder(q('conversion-' + c.id), 'No exposures yet.'); });
    (data.quality || []).forEach(function (h) { histogramChart(q('quality-' + h.name), h, ['previous snapshot', 'latest snapshot']); });
    (data.drift || []).forEach(function (d) { histogramChart(q('drift-' + d.id), d, ['reference window', 'current window']); });
    if (data.driftShare) driftShareChart(q('drift-share'), data.driftShare);
    if (data.segments && data.segments.names && data.segments.names.length) segmentsChart(q('segments'), data.segments);
    if (data.forecast) forecastChart(q('forecast'), data.forecast);
  }

  function placeholder(el, text) {
    if (!el) return;
    el.textContent = text;
    el.classList.add('placeholder');
  }

  var resizeTimer = null;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.u.setSize(plotSize(c.el)); });
    }, 80);
  }

  // ---------------------------------------------------------------- interaction

  function refresh() {
    return fetch('/dashboard?' + shopQuery(), { headers: headers({ Accept: 'text/html' }), credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('reload failed (' + res.status + ')');
        return res.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var main = doc.getElementById('main');
        if (!main) throw new Error('unexpected page');
        config = readJson(doc, 'dashboard-config') || config;
        data = readJson(doc, 'dashboard-data') || data;
        var y = window.scrollY;
        document.getElementById('main').replaceWith(document.adoptNode(main));
        bind();
        drawAll();
        window.scrollTo(0, y);
      });
  }

  function onAction(ev) {
    var form = ev.target.closest('form[data-action-form]');
    if (!form) return;
    ev.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    fetch(form.getAttribute('action'), {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: headers({ Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        if (!res.ok) throw new Error(j.detail || j.message || ('request failed (' + res.status + ')'));
        return refresh().then(function () { status('Saved.', false); });
      });
    }).catch(function (err) {
      status(err.message, true);
      if (button) button.disabled = false;
    });
  }

  function onCompare(ev) {
    var form = ev.target.closest('form[data-compare-form]');
    if (!form) return;
    ev.preventDefault();
    var ids = Array.prototype.map.call(form.querySelectorAll('input[name="ids"]:checked'), function (i) { return i.value; });
    if (!ids.length) { status('Tick at least one run to compare.', true); return; }
    fetch('/dashboard/api/runs/compare?' + shopQuery() + '&ids=' + ids.join(','), { headers: headers({ Accept: 'application/json' }), credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error('compare failed (' + res.status + ')'); return res.json(); })
      .then(function (j) {
        var box = document.getElementById('comparison');
        var doc = new DOMParser().parseFromString('<div>' + j.html + '</div>', 'text/html');
        box.replaceChildren.apply(box, Array.prototype.slice.call(doc.body.firstChild.childNodes).map(function (n) { return document.adoptNode(n); }));
        status('', false);
      })
      .catch(function (err) { status(err.message, true); });
  }

  function onForecastSelect(ev) {
    var sel = ev.target.closest('select[data-forecast-select]');
    if (!sel) return;
    fetch('/dashboard/api/forecast/' + encodeURIComponent(sel.value) + '?' + shopQuery(), { headers: headers({ Accept: 'application/json' }), credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error('forecast not available (' + res.status + ')'); return res.json(); })
      .then(function (f) {
        data.forecast = f;
        var el = document.querySelector('[data-chart="forecast"]');
        charts = charts.filter(function (c) { if (c.el === el) { c.u.destroy(); return false; } return true; });
        forecastChart(el, f);
      })
      .catch(function (err) { status(err.message, true); });
  }

  function bind() {
    var main = document.getElementById('main');
    if (!main || main.dataset.bound) return;
    main.dataset.bound = '1';
    main.addEventListener('submit', function (ev) { onAction(ev); onCompare(ev); });
    main.addEventListener('change', onForecastSelect);
  }

  function start() {
    var picker = document.querySelector('select[data-autosubmit]');
    if (picker) picker.addEventListener('change', function () { picker.form.submit(); });
    bind();
    drawAll();
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(onResize).observe(document.body);
    else window.addEventListener('resize', onResize);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
