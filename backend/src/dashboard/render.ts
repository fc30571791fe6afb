// Whole pages: the dashboard, the login form, and a short message page (401, 403, 404). No
// inline script or style anywhere: the page's data rides in <script type="application/json">
// blocks that the served dashboard.js reads.
import { esc, html, jsonForScript, raw, when, type Raw } from './html.ts';
import type { Overview } from './views/index.ts';
import type { ProductForecastChart } from './views/forecast.ts';
import { comparisonTable, controlsPanel, driftPanel, forecastPanel, jobsPanel, modelsPanel, qualityPanel, rolloutPanel, runsPanel, segmentsPanel, summaryPanel, type FormContext } from './panels.ts';

/** Fixed texts for ?notice= / ?error= after a form post without script (nothing user-typed is echoed). */
export const NOTICES: Record<string, string> = {
  saved: 'Saved. It applies to the next storefront request.',
  lead_time_saved: 'Lead time saved. It applies at the next training.',
  logged_out: 'Logged out.',
  bad_login: 'That token is not right.',
  bad_request: 'That change was not valid; nothing was saved.',
  csrf: 'The form expired; reload the page and try again.',
  rate_limited: 'Too many attempts; wait a minute.',
  not_installed: 'shopml could not obtain an access token from Shopify yet (token exchange failed); the figures below are what is stored. Reopen the app to try again.',
};

const ERRORS = new Set(['bad_login', 'bad_request', 'csrf', 'rate_limited', 'not_installed']);

const NAV: [string, string][] = [
  ['rollout', 'Rollout'], ['drift', 'Drift'], ['models', 'Models'], ['aliases', 'Aliases'], ['runs', 'Runs'], ['quality', 'Data quality'],
  ['segments', 'Segments'], ['forecasts', 'Forecasts'], ['controls', 'Controls'], ['jobs', 'Jobs'],
];

export interface PageOptions {
  shops: string[];
  embedded: boolean;
  /** CSRF token for cookie sessions (null otherwise). */
  csrf: string | null;
  /** A dashboard session token the page's script sends as Bearer (embedded mode), else null. */
  session: string | null;
  /** Whether the operator may log out (cookie session). */
  canLogout: boolean;
  notice: string | null;
  forecastChart: ProductForecastChart | null;
  assetVersion: string;
}

function head(title: string, assetVersion: string, withCharts: boolean): Raw {
  return html`<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="same-origin">
<title>${title}</title>
<link rel="icon" href="/dashboard/assets/favicon.svg?v=${assetVersion}" type="image/svg+xml">
${withCharts ? html`<link rel="stylesheet" href="/dashboard/assets/uPlot.min.css?v=${assetVersion}">` : ''}
<link rel="stylesheet" href="/dashboard/assets/dashboard.css?v=${assetVersion}">`;
}

/** The chart inputs (small: series, not tables). */
export function chartData(o: Overview, forecast: ProductForecastChart | null) {
  return {
    aliasTimelines: o.aliasTimelines,
    conversion: o.rollout.slice(0, 2).map((e) => ({ id: e.id, series: e.series })),
    quality: o.quality.profile?.histograms ?? [],
    segments: {
      names: o.segments.rows.map((r) => r.name),
      customers: o.segments.rows.map((r) => r.customers),
      predictedSpend: o.segments.rows.map((r) => r.predictedSpend),
    },
    forecast,
    drift: o.drift.histograms,
    driftShare: o.drift.shareSeries.x.length > 1 ? o.drift.shareSeries : null,
  };
}

export function dashboardPage(o: Overview, p: PageOptions): string {
  const f: FormContext = { shop: o.shop, csrf: p.csrf };
  const config = { shop: o.shop, embedded: p.embedded, csrf: p.csrf, session: p.session };
  const picker = !p.embedded && p.shops.length > 1
    ? html`<form method="get" action="/dashboard" class="picker"><label for="shop-picker">Shop</label>
        <select id="shop-picker" name="shop" data-autosubmit>${p.shops.map((s) => html`<option value="${s}"${s === o.shop ? raw(' selected') : ''}>${s}</option>`)}</select>
        <button type="submit">Open</button></form>`
    : html`<span class="shop-name">${o.shop}</span>`;
  const logout = p.canLogout
    ? html`<form method="post" action="/dashboard/logout" class="logout"><input type="hidden" name="_csrf" value="${p.csrf ?? ''}"><button type="submit">Log out</button></form>`
    : '';
  const notice = p.notice && Object.hasOwn(NOTICES, p.notice) ? html`<p class="notice${ERRORS.has(p.notice) ? ' error' : ''}" role="status">${NOTICES[p.notice]}</p>` : '';
  const body = html`<!doctype html>
<html lang="en"><head>${head(`shopml dashboard — ${o.shop}`, p.assetVersion, true)}
<script type="application/json" id="dashboard-config">${raw(jsonForScript(config))}</script>
<script type="application/json" id="dashboard-data">${raw(jsonForScript(chartData(o, p.forecastChart)))}</script>
<script src="/dashboard/assets/uPlot.iife.min.js?v=${p.assetVersion}" defer></script>
<script src="/dashboard/assets/dashboard.js?v=${p.assetVersion}" defer></script>
</head><body class="${p.embedded ? 'embedded' : 'standalone'}">
<header class="top"><div class="brand">shopml <span>operator dashboard</span></div>${picker}<div class="asof">as of ${when(o.asOf)}</div>${logout}</header>
<nav class="sections" aria-label="Sections"><ul>${NAV.map(([id, label]) => html`<li><a href="#${id}">${label}</a></li>`)}</ul></nav>
<main id="main">
${notice}<p class="notice" role="status" id="live-status" hidden></p>
${summaryPanel(o)}
${rolloutPanel(o)}
${driftPanel(o)}
${modelsPanel(o)}
${runsPanel(o, f)}
${qualityPanel(o)}
${segmentsPanel(o)}
${forecastPanel(o, f)}
${controlsPanel(o, f)}
${jobsPanel(o)}
</main>
<footer><p>shopml · ${esc(o.shop)} · figures as of ${when(o.asOf)}</p></footer>
</body></html>`;
  return body.__html;
}

/** Just the comparison table (the page's script swaps it in). */
export function comparisonFragment(c: Overview['comparison']): string {
  return comparisonTable(c).__html;
}

export function loginPage(opts: { notice: string | null; assetVersion: string; next: string | null }): string {
  const notice = opts.notice && Object.hasOwn(NOTICES, opts.notice) ? html`<p class="notice error" role="alert">${NOTICES[opts.notice]}</p>` : '';
  return html`<!doctype html>
<html lang="en"><head>${head('shopml dashboard — log in', opts.assetVersion, false)}</head>
<body class="login"><main id="main" class="login-box">
<h1>shopml <span>operator dashboard</span></h1>
${notice}
<form method="post" action="/dashboard/login" class="stack">
  ${opts.next ? html`<input type="hidden" name="next" value="${opts.next}">` : ''}
  <input type="text" name="username" value="operator" autocomplete="username" hidden>
  <div class="field"><label for="token">Admin token (SHOPML_ADMIN_TOKEN)</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
  <button type="submit">Log in</button>
</form>
<p class="note">Inside the Shopify admin, open shopml from the Apps menu instead: Shopify signs you in.</p>
</main></body></html>`.__html;
}

export function messagePage(title: string, text: string, assetVersion: string, link?: { href: string; label: string }): string {
  return html`<!doctype html>
<html lang="en"><head>${head(`shopml — ${title}`, assetVersion, false)}</head>
<body class="login"><main id="main" class="login-box"><h1>${title}</h1><p>${text}</p>${link ? html`<p><a href="${link.href}">${link.label}</a></p>` : ''}</main></body></html>`.__html;
}
