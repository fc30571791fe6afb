// One function per dashboard section: the view (views/index.ts) in, escaped HTML out. Charts
// are empty containers (`data-chart="…"`) that dashboard.js fills with uPlot from the JSON block.
import { html, num, pct, pval, short, when, day, fin, raw, type Raw } from './html.ts';
import type { Overview } from './views/index.ts';
import type { ExperimentView } from './views/rollout.ts';
import { VARIANTS } from '../rollout/bucket.ts';
import { PRODUCT_ACTIONS } from '../serve/controls.ts';

/** What every form needs: the shop it acts on and, with the cookie, the CSRF token. */
export interface FormContext {
  shop: string;
  csrf: string | null;
}

const hidden = (f: FormContext) => html`<input type="hidden" name="shop" value="${f.shop}">${f.csrf ? html`<input type="hidden" name="_csrf" value="${f.csrf}">` : ''}`;

function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'): Raw {
  return html`<span class="badge ${tone}">${text}</span>`;
}

const section = (id: string, title: string, body: Raw, intro?: string) =>
  html`<section id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${intro ? html`<p class="intro">${intro}</p>` : ''}${body}</section>`;

const table = (head: (string | Raw)[], rows: Raw[], caption?: string, cls = '') =>
  html`<div class="table-wrap"><table class="${cls}">${caption ? html`<caption>${caption}</caption>` : ''}<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;

const empty = (text: string) => html`<p class="empty">${text}</p>`;

const chart = (name: string, label: string, cls = '') =>
  html`<figure class="chart ${cls}"><div class="plot" data-chart="${name}" role="img" aria-label="${label}"></div><figcaption>${label}</figcaption></figure>`;

const version = (v: string | null | undefined) => (v ? html`<code title="${v}">${short(v)}</code>` : raw('–'));

// ---------------------------------------------------------------- overview

export function summaryPanel(o: Overview): Raw {
  const live = o.rollout.find((e) => e.live);
  const cards: Raw[] = [
    card('Orders', num(o.counts.orders, 0)),
    card('Customers', num(o.counts.customers, 0)),
    card('Products', num(o.counts.products, 0)),
    card('Champion models', `${o.models.filter((m) => m.champion).length} / ${o.models.length}`),
    card(live ? `Canary #${live.id}` : 'Canary', live ? `${live.status}${live.report.srm?.mismatch ? ' · SRM' : ''}` : 'none live'),
    card('Stock-outs ahead', o.forecast.version ? num(o.forecast.stockouts, 0) : '–'),
    card('Jobs waiting / dead', o.jobs.available ? `${(o.jobs.counts.pending ?? 0) + (o.jobs.counts.failed ?? 0)} / ${o.jobs.counts.dead ?? 0}` : '–'),
    card('Data quality', o.quality.reports[0] ? (o.quality.reports[0].ok ? 'passed' : 'FAILED') : '–'),
    card('Drift share', o.drift.report ? `${pct(o.drift.report.share, 0)}${o.drift.report.datasetDrift ? ' · DRIFT' : ''}` : '–'),
  ];
  return html`<section id="summary" aria-label="Summary"><div class="cards">${cards}</div></section>`;
}

const card = (label: string, value: string) => html`<div class="card"><div class="card-value">${value}</div><div class="card-label">${label}</div></div>`;

// ---------------------------------------------------------------- models, aliases, runs

export function modelsPanel(o: Overview): Raw {
  const kinds = o.models.map((m) => {
    const rows = m.versions.map((v) => html`<tr>
      <td>${version(v.version)}</td>
      <td>${v.aliases.map((a) => badge(a, a === 'champion' ? 'ok' : 'info'))}</td>
      <td>${when(v.trainedAt)}</td>
      <td class="n">${num(v.primary, 4)}</td>
      <td class="n">${num(v.trainSeconds, 1)}</td>
      <td>${v.runId ?? '–'}</td>
      <td class="metrics">${Object.entries(v.metrics).filter(([k]) => k !== m.primaryMetric).slice(0, 4).map(([k, x]) => html`<span>${k} ${num(x, 4)}</span>`)}</td>
    </tr>`);
    return html`<div class="kind"><h3>${m.kind} <small>champion ${version(m.champion)}${m.challenger ? html` · challenger ${version(m.challenger)}` : ''}</small></h3>
      ${rows.length ? table(['Version', 'Aliases', 'Trained', `${m.primaryMetric} (${m.higherIsBetter ? 'higher' : 'lower'} is better)`, 'Train s', 'Run', 'Other metrics'], rows) : empty('No versions yet: train this kind with `shopml train`.')}</div>`;
  });
  const timelines = o.aliasTimelines.map((t) => chart(`alias-${t.kind}`, `Alias timeline — ${t.kind}: which version was champion and challenger when`, 'small'));
  const moves = o.moves.map((m) => html`<tr>
    <td>${when(m.at)}</td><td>${m.kind}</td><td>${m.alias}</td><td>${version(m.from)} → ${version(m.to)}</td>
    <td>${badge(m.action, m.action === 'rollback' ? 'warn' : m.action === 'clear' ? 'muted' : 'ok')}</td><td>${m.actor}</td><td class="reason">${m.reason}</td></tr>`);
  return html`${section('models', 'Models and versions', html`${kinds}`, 'Every version is the sha256 of its artifact. The primary metric is the one the promotion gate compares, on the validation slice of the version\'s own snapshot.')}
    ${section('aliases', 'Alias history', html`${timelines.length ? html`<div class="chart-grid">${timelines}</div>` : ''}
      ${moves.length ? table(['When', 'Kind', 'Alias', 'From → to', 'Action', 'Actor', 'Reason'], moves, 'Latest alias moves, newest first') : empty('No alias has moved yet.')}`,
      'Append-only: which version served at any moment, and who moved it why.')}`;
}

export function runsPanel(o: Overview, f: FormContext): Raw {
  const rows = o.runs.map((r) => html`<tr>
    <td><label class="check"><input type="checkbox" name="ids" value="${r.id}"${o.comparison.runs.some((c) => c.id === r.id) ? raw(' checked') : ''}> #${r.id}</label></td>
    <td>${r.kind}</td><td>${badge(r.status, r.status === 'succeeded' ? 'ok' : r.status === 'running' ? 'info' : 'bad')}</td>
    <td>${r.decision ?? '–'}</td><td>${when(r.started_at)}</td><td class="n">${num(r.seconds, 1)}</td><td>${version(r.version)}</td>
    <td class="reason">${r.error ?? ''}</td></tr>`);
  return section('runs', 'Training runs', html`
    <form method="get" action="/dashboard" class="runs-form" data-compare-form>
      <input type="hidden" name="shop" value="${f.shop}">
      ${rows.length ? table(['Run', 'Kind', 'Status', 'Gate', 'Started', 'Seconds', 'Version', 'Error'], rows) : empty('No training runs yet.')}
      ${rows.length ? html`<button type="submit">Compare selected runs</button>` : ''}
    </form>
    <div id="comparison" aria-live="polite">${comparisonTable(o.comparison)}</div>`,
  'Every training attempt, succeeded or not. Tick runs and compare them side by side (differences against the first).');
}

export function comparisonTable(c: Overview['comparison']): Raw {
  if (c.runs.length === 0) return empty('Nothing to compare yet.');
  const head = ['', ...c.runs.map((r) => `#${r.id} ${r.kind}`)];
  const delta = (d: number | null, i: number) => (i === 0 || d === null ? '' : html` <span class="delta ${d > 0 ? 'up' : d < 0 ? 'down' : ''}">(${d > 0 ? '+' : ''}${num(d, 4)})</span>`);
  const rows: Raw[] = [
    html`<tr><th scope="row">status</th>${c.runs.map((r) => html`<td>${r.status}${r.decision ? ` · ${r.decision}` : ''}</td>`)}</tr>`,
    html`<tr><th scope="row">version</th>${c.runs.map((r) => html`<td>${version(r.version)}</td>`)}</tr>`,
    html`<tr><th scope="row">seed · snapshot</th>${c.runs.map((r) => html`<td>${r.seed} · ${short(r.snapshotId)}</td>`)}</tr>`,
    ...c.metrics.map((m) => html`<tr class="metric"><th scope="row">${m.key}</th>${m.values.map((v, i) => html`<td class="n">${num(v, 4)}${delta(m.deltas[i]!, i)}</td>`)}</tr>`),
    ...c.durations.map((m) => html`<tr><th scope="row">${m.key}</th>${m.values.map((v, i) => html`<td class="n">${num(v, 2)}${delta(m.deltas[i]!, i)}</td>`)}</tr>`),
    ...c.params.filter((p) => !p.same).map((p) => html`<tr class="param"><th scope="row">${p.key}</th>${p.values.map((v) => html`<td>${v === null ? '–' : String(v).slice(0, 80)}</td>`)}</tr>`),
  ];
  const same = c.params.filter((p) => p.same).length;
  return html`${table(head, rows, 'Runs side by side', 'compare')}${same ? html`<p class="note">${same} parameters are the same in every run (not shown).</p>` : ''}`;
}

// ---------------------------------------------------------------- rollout

function experimentBlock(e: ExperimentView, index: number): Raw {
  const r = e.report;
  const srm = r.srm;
  const statusTone = e.status === 'running' ? 'info' : e.status === 'promoted' ? 'ok' : e.status === 'broken' ? 'bad' : 'warn';
  const variantRows = VARIANTS.map((v) => {
    const x = r.variants[v];
    return html`<tr><th scope="row"><span class="swatch ${v}"></span>${v}</th>
      <td class="n">${pct(r.split[v], 0)}</td><td class="n">${num(x.units, 0)}</td><td class="n">${num(x.converters, 0)}</td>
      <td class="n">${pct(x.conversion.rate, 2)}</td><td class="n">${pct(x.conversion.lo, 2)} – ${pct(x.conversion.hi, 2)}</td>
      <td class="n">${num(x.revenuePerVisitor.mean, 2)}</td><td class="n">${num(x.revenuePerVisitor.lo, 2)} – ${num(x.revenuePerVisitor.hi, 2)}</td></tr>`;
  });
  const cmp = (label: string, c: ExperimentView['report']['challengerVsChampion']) => html`<tr><th scope="row">${label}</th>
    <td class="n">${fin(c.zTest.lift) ? `${c.zTest.lift >= 0 ? '+' : ''}${(c.zTest.lift * 100).toFixed(1)}%` : '–'}</td>
    <td class="n">${pct(c.sequential.cs.lo, 2)} – ${pct(c.sequential.cs.hi, 2)}</td>
    <td class="n">${pval(c.sequential.p)}</td><td class="n">${pval(c.zTest.p)}</td>
    <td>${c.sequential.reject ? badge(c.sequential.direction > 0 ? 'better' : 'worse', c.sequential.direction > 0 ? 'ok' : 'bad') : badge('undecided', 'muted')}</td></tr>`;
  const t = e.timeToDecision;
  const ttd = html`<dl class="facts">
    <div><dt>Day</dt><dd>${t.daysElapsed}${t.plannedDays !== null ? ` of ${t.plannedDays} planned` : ''}</dd></div>
    <div><dt>Challenger units vs plan</dt><dd>${t.progress !== null ? pct(t.progress, 0) : '–'}${t.plannedChallengerUnits !== null ? ` of ${num(t.plannedChallengerUnits, 0)}` : ''}</dd></div>
    <div><dt>Time to decision (now)</dt><dd>${t.estimatedDays !== null ? `${t.estimatedDays} days (${t.remainingDays} to go)` : t.basis ? 'beyond 3 years' : 'no traffic yet'}</dd></div>
    <div><dt>Basis</dt><dd>${t.basis ? `${pct(t.basis.baselineRate, 2)} baseline, ${num(t.basis.dailyUnits, 1)} units/day` : '–'}</dd></div>
    <div><dt>SRM</dt><dd>${srm ? html`${srm.mismatch ? badge('MISMATCH', 'bad') : badge('ok', 'ok')} always-valid p ${pval(srm.p)} (χ² ${num(srm.chi2, 2)})` : 'not enough units yet'}</dd></div>
    <div><dt>Policy now</dt><dd>${e.nextDecision ? html`${badge(e.nextDecision.action, e.nextDecision.action === 'rollback' || e.nextDecision.action === 'mark_broken' ? 'bad' : e.nextDecision.action === 'promote' ? 'ok' : 'muted')} ${e.nextDecision.reason}` : e.statusReason ?? '–'}</dd></div>
  </dl>${t.warning ? html`<p class="warning" role="note">${t.warning}</p>` : ''}`;
  const guard = r.guardrails.map((g) => html`<tr><th scope="row">${g.name}</th><td>${g.judged ? (g.breached ? badge('breached', 'bad') : badge('ok', 'ok')) : badge('not enough requests', 'muted')}</td><td>${g.detail}</td></tr>`);
  const decisions = e.decisions.map((d) => html`<tr><td>${when(d.at)}</td><td>${d.action}</td><td>${d.actor}</td><td class="reason">${d.reason}</td></tr>`);
  return html`<article class="experiment" data-experiment="${e.id}">
    <h3>Experiment #${e.id} <small>${e.kind}</small> ${badge(e.status, statusTone)} ${srm?.mismatch ? badge('SRM', 'bad') : ''}</h3>
    <p class="meta">Champion ${version(e.championVersion)} vs challenger ${version(e.challengerVersion)} · started ${when(e.startedAt)}${e.endedAt ? ` · ended ${when(e.endedAt)}` : ''}</p>
    ${index < 2 ? chart(`conversion-${e.id}`, `Cumulative conversion per variant with 95% intervals — experiment #${e.id}`) : ''}
    ${ttd}
    ${table(['Variant', 'Split', 'Units', 'Converters', 'Conversion', '95% interval', 'Revenue / visitor', '95% interval'], variantRows, 'Per variant')}
    ${table(['Comparison', 'Lift', '95% confidence sequence (diff)', 'Always-valid p', 'z-test p', 'Sequential'], [cmp('challenger vs champion', r.challengerVsChampion), cmp('challenger vs holdout', r.challengerVsHoldout), cmp('champion vs holdout', r.championVsHoldout)], 'Comparisons')}
    ${table(['Guardrail', 'State', 'Detail'], guard, 'Guardrails (challenger vs champion serving)')}
    ${decisions.length ? table(['When', 'Action', 'Actor', 'Reason'], decisions, 'Decision log, newest first') : ''}
  </article>`;
}

export function rolloutPanel(o: Overview): Raw {
  return section('rollout', 'Rollout', o.rollout.length ? html`${o.rollout.map(experimentBlock)}` : empty('No canary has run yet. Start one with `shopml canary start` once a challenger exists.'),
    'Canary against a popularity holdout. Intervals are 95% Wilson (conversion) and t (revenue per visitor); decisions use the anytime-valid sequential test, so looking every day is safe.');
}

// ---------------------------------------------------------------- quality

export function qualityPanel(o: Overview): Raw {
  const q = o.quality;
  if (q.reports.length === 0) return section('quality', 'Data quality', empty('No dataset snapshot yet: the gate runs before every training.'));
  const latest = q.reports[0]!;
  const checks = latest.checks.map((c) => html`<tr class="${c.ok ? '' : 'fail'}"><th scope="row">${c.name}</th><td>${c.ok ? badge('ok', 'ok') : badge('FAIL', 'bad')}</td>
    <td class="n">${num(c.value, 4)}</td><td class="n">${num(c.threshold, 4)}</td><td class="reason">${c.detail}</td></tr>`);
  const history = q.reports.map((r) => html`<tr><td>${when(r.checkedAt)}</td><td>${short(r.snapshotId)}</td><td>${when(r.watermark)}</td>
    <td>${r.ok ? badge('passed', 'ok') : badge('failed', 'bad')}</td><td>${r.runs.map((x) => `#${x.id} ${x.kind} ${x.status}`).join(', ') || '–'}</td></tr>`);
  const hists = q.profile?.histograms.map((h) => chart(`quality-${h.name}`, `${h.name.replace(/_/g, ' ')}: previous passing snapshot vs latest`, 'small')) ?? [];
  return section('quality', 'Data quality', html`
    <p>Latest snapshot <code>${short(latest.snapshotId)}</code>, watermark ${when(latest.watermark)}: ${latest.ok ? badge('passed', 'ok') : badge('FAILED — training blocked', 'bad')}</p>
    ${table(['Check', 'Result', 'Value', 'Threshold', 'Detail'], checks, 'Checks of the latest snapshot')}
    ${hists.length ? html`<div class="chart-grid">${hists}</div>` : ''}
    ${table(['Checked', 'Snapshot', 'Watermark', 'Gate', 'Runs'], history, 'Recent snapshots')}`,
  'The gate that runs before every training: a failing check blocks training and says why.');
}

// ---------------------------------------------------------------- segments

export function segmentsPanel(o: Overview): Raw {
  const s = o.segments;
  if (!s.version) return section('segments', 'Segments', empty('No segment champion yet.'));
  const rows = s.rows.map((r) => html`<tr><th scope="row">${r.name}</th><td><code>${r.tag ?? ''}</code></td><td class="n">${num(r.customers, 0)}</td><td class="n">${pct(r.share, 1)}</td>
    <td class="n">${num(r.revenueToDate, 0)}</td><td class="n">${num(r.predictedSpend, 0)}</td><td class="n">${pct(r.meanChurnRisk, 0)}</td>
    <td class="n">${r.profile ? `${num(r.profile.recencyDays, 0)} d · ${num(r.profile.frequency, 1)} · ${num(r.profile.monetary, 0)}` : '–'}</td></tr>`);
  return section('segments', 'Segments', html`
    <p class="meta">Segment model ${version(s.version)} (trained ${when(s.trainedAt)}) · value from churn model ${version(s.churnVersion)}${s.horizonDays ? ` (predicted spend over ${s.horizonDays} days)` : ''} · ${num(s.customers, 0)} customers</p>
    ${s.error ? html`<p class="warning">${s.error}</p>` : ''}
    ${chart('segments', 'Customers per segment and their predicted spend')}
    ${table(['Segment', 'Tag', 'Customers', 'Share', 'Revenue to date', 'Predicted spend', 'Mean churn risk', 'Median recency · orders · spend'], rows)}`,
  'Customers per segment of the champion segment model, with what they spent so far and what the churn model expects them to spend.');
}

// ---------------------------------------------------------------- forecasts

export function forecastPanel(o: Overview, f: FormContext): Raw {
  const v = o.forecast;
  if (!v.version) return section('forecasts', 'Forecasts', empty('No forecast champion yet.'));
  if (v.error) return section('forecasts', 'Forecasts', html`<p class="warning">${v.error}</p>`);
  const options = v.rows.map((r, i) => html`<option value="${r.productId}"${i === 0 ? raw(' selected') : ''}>${r.title ?? r.productId}${r.stockoutDate ? ` — stock-out ${r.stockoutDate}` : ''}</option>`);
  const rows = v.rows.map((r) => html`<tr${r.stockoutDate ? raw(' class="risk"') : ''}>
    <th scope="row">${r.title ?? r.productId}<br><small>${r.productId}</small></th>
    <td class="n">${num(r.stock, 0)}</td><td class="n">${num(r.velocityPerDay, 2)}</td>
    <td class="n">${r.nextWeek ? `${num(r.nextWeek.mean, 1)} (${num(r.nextWeek.lo, 1)}–${num(r.nextWeek.hi, 1)})` : '–'}</td>
    <td>${r.stockoutDate ? html`<strong>${r.stockoutDate}</strong>` : '–'}</td>
    <td class="n">${num(r.reorderPoint, 1)}</td><td class="n">${num(r.suggestedOrderQty, 0)}</td>
    <td>
      <form method="post" action="/dashboard/actions/lead-time" class="inline" data-action-form>
        ${hidden(f)}<input type="hidden" name="product_id" value="${r.productId}">
        <label class="sr-only" for="lt-${r.productId}">Lead time in days for ${r.title ?? r.productId}</label>
        <input id="lt-${r.productId}" name="lead_time_days" type="number" min="1" max="365" step="1" inputmode="numeric" value="${r.leadTimeSetting ?? ''}" placeholder="${r.leadTimeDays}">
        <button type="submit">Set</button>
      </form>
    </td><td>${r.method}</td></tr>`);
  return section('forecasts', 'Forecasts', html`
    <p class="meta">Forecast model ${version(v.version)} as of ${when(v.asOf)} · strategy ${v.chosen} · ${pct(v.intervalLevel, 0)} prediction intervals · service level ${pct(v.serviceLevel, 0)} · ${num(v.products, 0)} products, ${num(v.stockouts, 0)} with a stock-out in the horizon</p>
    <div class="field"><label for="forecast-product">Product</label> <select id="forecast-product" data-forecast-select>${options}</select></div>
    ${chart('forecast', 'Weekly units: ordered (history) and forecast with its prediction interval')}
    <p class="note">Lead times apply at the next training (empty = the default ${v.defaultLeadTimeDays} days; the placeholder is the value the current forecast used).</p>
    ${table(['Product', 'Stock', 'Units / day', 'Next week (interval)', 'Stock-out', 'Reorder point', 'Order now', 'Lead time (days)', 'Method'], rows, v.products > v.rows.length ? `At-risk first: ${v.rows.length} of ${v.products} products` : 'At-risk first')}`,
  'Weekly demand per product with prediction intervals, the day stock runs out at that pace, and how much to order given the supplier lead time.');
}

// ---------------------------------------------------------------- controls

export function controlsPanel(o: Overview, f: FormContext): Raw {
  const c = o.controls;
  const list = (items: { productId: string; title: string | null; position?: number }[]) =>
    items.length ? html`<ul class="plain">${items.map((i) => html`<li>${i.position ? `${i.position}. ` : ''}${i.title ?? i.productId} <small>${i.productId}</small></li>`)}</ul>` : empty('none');
  return section('controls', 'Merchant controls', html`
    <div class="controls-grid">
      <div><h3>Excluded products</h3>${list(c.excluded)}</div>
      <div><h3>Pinned products</h3>${list(c.pinned)}</div>
      <div><h3>Lead times set</h3>${c.leadTimes.length ? html`<ul class="plain">${c.leadTimes.map((l) => html`<li>${l.title ?? l.productId}: ${num(l.leadTimeDays, 1)} days</li>`)}</ul>` : empty('none (default 14 days)')}</div>
    </div>
    <form method="post" action="/dashboard/actions/product-control" class="stack" data-action-form>
      <h3>Exclude or pin a product</h3>
      ${hidden(f)}
      <div class="field"><label for="pc-product">Product id</label><input id="pc-product" name="product_id" required pattern="[0-9]{1,20}" inputmode="numeric" autocomplete="off"></div>
      <div class="field"><label for="pc-action">Action</label><select id="pc-action" name="action">${PRODUCT_ACTIONS.map((a) => html`<option value="${a}">${a}</option>`)}</select></div>
      <div class="field"><label for="pc-position">Pin position (optional)</label><input id="pc-position" name="position" type="number" min="1" step="1" inputmode="numeric"></div>
      <button type="submit">Apply</button>
    </form>
    <form method="post" action="/dashboard/actions/settings" class="stack" data-action-form>
      <h3>Serving settings</h3>
      ${hidden(f)}
      <div class="field"><label for="st-min">Orders before personal lists</label><input id="st-min" name="min_history_orders" type="number" min="0" max="1000" step="1" value="${c.minHistoryOrders}"></div>
      <div class="field"><label for="st-attr">Attribution window (days)</label><input id="st-attr" name="attribution_days" type="number" min="1" max="90" step="1" value="${c.attributionDays}"></div>
      <button type="submit">Save settings</button>
    </form>
    <p class="note">Changes apply to the next storefront request${c.updatedAt ? ` (last change ${when(c.updatedAt)})` : ''}.</p>`,
  'What shoppers are never shown, what they see first, and when personal lists start.');
}

// ---------------------------------------------------------------- monitoring

export function driftPanel(o: Overview): Raw {
  const d = o.drift;
  const intro = 'Model inputs and outputs, reference window against current window, per column (Evidently\'s rules: KS / chi-squared / z on small samples, normalized Wasserstein / Jensen–Shannon distance on large ones). PSI is shown but never decides.';
  if (!d.available) return section('drift', 'Drift', html`<p class="warning">${d.missing ?? 'no drift reports'}</p>`, intro);
  const r = d.report;
  if (!r) return section('drift', 'Drift', empty('No drift report yet: the monitor writes one on its schedule, or run `shopml drift --shop DOMAIN`.'), intro);
  const facts = html`<dl class="facts">
    <div><dt>Report</dt><dd>#${r.id} as of ${when(r.asOf)}</dd></div>
    <div><dt>Reference window</dt><dd>${r.windows ? `${day(r.windows.reference.from)} → ${day(r.windows.reference.to)}` : '–'}</dd></div>
    <div><dt>Current window</dt><dd>${r.windows ? `${day(r.windows.current.from)} → ${day(r.windows.current.to)}` : '–'}</dd></div>
    <div><dt>Dataset drift share</dt><dd>${r.datasetDrift ? badge('DRIFT', 'bad') : badge('no drift', 'ok')} ${r.drifted} of ${r.judged} columns = ${pct(r.share, 0)} (threshold ${pct(r.shareThreshold, 0)})</dd></div>
    <div><dt>Basis · method</dt><dd>${r.basis ?? '–'} · ${r.method ?? '–'}</dd></div>
    <div><dt>Retrain</dt><dd>${r.retrain ? badge('warranted', 'warn') : badge('not needed', 'muted')}</dd></div>
  </dl>${r.skipped ? html`<p class="warning">Drift not judged: ${r.skipped}</p>` : ''}${r.retrainReason ? html`<p class="note">${r.retrainReason}</p>` : ''}`;
  const score = (c: (typeof d.columns)[number]) => (c.scoreKind === 'p_value' ? `p ${pval(c.score)}` : `${num(c.score, 3)}`);
  const rows = d.columns.map((c) => html`<tr class="${c.drifted ? 'fail' : ''}"><td>${c.group}</td><th scope="row">${c.column}</th><td>${c.treatedAs}</td><td>${c.test ?? '–'}</td>
    <td class="n">${num(c.statistic, 4)}</td><td class="n">${score(c)}</td><td class="n">${c.scoreKind === 'p_value' ? '< ' : '> '}${num(c.threshold, 3)}</td>
    <td>${!c.judged ? badge('not judged', 'muted') : c.drifted ? badge('drifted', 'bad') : badge('ok', 'ok')}</td><td class="n">${num(c.psi, 3)}</td>
    <td class="n">${num(c.referenceRows, 0)} / ${num(c.currentRows, 0)}</td><td class="reason">${c.reason}</td></tr>`);
  const hists = d.histograms.map((h) => chart(`drift-${h.id}`, `${h.title}${h.drifted ? ' (drifted)' : ''}: reference vs current, share of rows`, 'small'));
  const metrics = d.metrics.map((m) => html`<tr class="${m.breached ? 'fail' : ''}"><th scope="row">${m.name}</th><td>${m.modelKind ?? 'shop'}</td><td class="n">${num(m.value, 4)}</td><td class="n">${num(m.baseline, 4)}</td>
    <td class="n">${num(m.threshold, 4)}</td><td class="n">${num(m.n, 0)}</td><td>${m.breached ? badge('breached', 'bad') : badge('ok', 'ok')}</td></tr>`);
  return section('drift', 'Drift', html`${facts}
    ${d.shareSeries.x.length > 1 ? chart('drift-share', 'Dataset drift share per monitor report, with the threshold') : ''}
    ${hists.length ? html`<div class="chart-grid">${hists}</div>` : ''}
    ${table(['Group', 'Column', 'Treated as', 'Test', 'Statistic', 'Score', 'Threshold', 'Result', 'PSI', 'Rows ref / cur', 'Why this test'], rows, 'Columns of the latest report')}
    ${metrics.length ? table(['Figure', 'Model', 'Value', 'Baseline', 'Threshold', 'n', 'State'], metrics, 'Live accuracy and KPIs judged by the same report') : ''}`, intro);
}

export function jobsPanel(o: Overview): Raw {
  const j = o.jobs;
  if (!j.available) return section('jobs', 'Job queue', html`<p class="warning">The job queue (migration 006_jobs.sql) is not installed in this database.</p>`);
  const counts = Object.entries(j.counts).map(([s, n]) => html`<div class="card"><div class="card-value">${num(n, 0)}</div><div class="card-label">${s}</div></div>`);
  const row = (x: (typeof j.recent)[number]) => html`<tr><td>#${x.id}</td><td>${x.type}</td>
    <td>${badge(x.status, x.status === 'done' ? 'ok' : x.status === 'dead' ? 'bad' : x.status === 'failed' ? 'warn' : 'info')}</td>
    <td class="n">${x.attempts}/${x.maxAttempts}</td><td>${when(x.createdAt)}</td><td>${when(x.finishedAt ?? x.startedAt)}</td><td class="reason">${x.reason ?? ''}</td></tr>`;
  const errors = j.errors.map((x) => html`<tr><td>#${x.id}</td><td>${x.type}</td><td>${x.status}</td><td>${x.status === 'failed' ? `retry ${when(x.runAt)}` : 'needs `shopml jobs retry`'}</td><td class="reason"><code>${x.lastError ?? ''}</code></td></tr>`);
  return section('jobs', 'Job queue', html`
    <div class="cards small">${counts}</div>
    ${j.recent.length ? table(['Job', 'Type', 'Status', 'Attempts', 'Created', 'Started / finished', 'Reason'], j.recent.map(row), 'Latest jobs') : empty('No jobs yet.')}
    ${errors.length ? table(['Job', 'Type', 'Status', 'Next', 'Last error'], errors, 'Last errors') : ''}`,
  'Training and other slow work, run by the durable queue: retries with backoff, dead jobs keep their last error.');
}

