// Every monitoring threshold in one place: defaults, SHOPML_DRIFT_* / SHOPML_MONITOR_* variables,
// and the matching CLI flags (`shopml drift --alpha 0.01 --share 0.3 …`). Flags override the
// environment, which overrides the defaults. A bad value is a clear error naming the variable.
import { DEFAULT_DRIFT_SETTINGS, type DriftMethod, type DriftSettings } from './drift.ts';
import { DEFAULT_WINDOW_SETTINGS, type WindowSettings } from './drift-report.ts';
import { DEFAULT_ACCURACY_SETTINGS, type AccuracySettings } from './accuracy.ts';
import { DEFAULT_KPI_SETTINGS, type KpiSettings } from './kpi.ts';

export interface MonitorSettings extends WindowSettings, AccuracySettings, KpiSettings {
  drift: DriftSettings;
}

export type MonitorSettingsInput = Partial<Omit<MonitorSettings, 'drift'>> & { drift?: Partial<DriftSettings> };

export const DEFAULT_MONITOR_SETTINGS: Readonly<MonitorSettings> = Object.freeze({
  ...DEFAULT_WINDOW_SETTINGS, ...DEFAULT_ACCURACY_SETTINGS, ...DEFAULT_KPI_SETTINGS, drift: { ...DEFAULT_DRIFT_SETTINGS },
});

export class SettingsError extends Error {
  override name = 'SettingsError';
}

type NumericKey = Exclude<keyof DriftSettings, 'method'> | keyof WindowSettings | keyof AccuracySettings | keyof KpiSettings;

interface Spec { key: NumericKey; drift: boolean; env: string; flag: string; min: number; max: number; integer?: boolean; help: string }

export const SETTING_SPECS: readonly Spec[] = [
  { key: 'alpha', drift: true, env: 'SHOPML_DRIFT_ALPHA', flag: 'alpha', min: 1e-9, max: 0.5, help: 'significance of KS / chi-squared / z (0.05)' },
  { key: 'wassersteinThreshold', drift: true, env: 'SHOPML_DRIFT_WASSERSTEIN', flag: 'wasserstein', min: 0, max: 100, help: 'normalized Wasserstein threshold (0.1)' },
  { key: 'jensenShannonThreshold', drift: true, env: 'SHOPML_DRIFT_JENSEN_SHANNON', flag: 'jensen-shannon', min: 0, max: 1, help: 'Jensen–Shannon distance threshold (0.1)' },
  { key: 'smallSampleMax', drift: true, env: 'SHOPML_DRIFT_SMALL_SAMPLE', flag: 'small-sample', min: 1, max: 1e9, integer: true, help: 'reference rows up to which p-value tests run (1000)' },
  { key: 'maxDistinctForCategorical', drift: true, env: 'SHOPML_DRIFT_MAX_CATEGORIES', flag: 'max-categories', min: 1, max: 1000, integer: true, help: 'numeric columns with at most this many values are tested as categorical (5)' },
  { key: 'datasetShare', drift: true, env: 'SHOPML_DRIFT_SHARE', flag: 'share', min: 0, max: 1, help: 'share of drifted columns for dataset drift (0.5)' },
  { key: 'bins', drift: true, env: 'SHOPML_DRIFT_BINS', flag: 'bins', min: 2, max: 1000, integer: true, help: 'histogram bins (20)' },
  { key: 'minRows', drift: true, env: 'SHOPML_DRIFT_MIN_ROWS', flag: 'min-rows', min: 1, max: 1e9, integer: true, help: 'rows a column needs in each window to be judged (20)' },
  { key: 'psiHigh', drift: true, env: 'SHOPML_DRIFT_PSI_HIGH', flag: 'psi-high', min: 0, max: 100, help: 'PSI labelled high in reports, informational (0.2)' },
  { key: 'maxWindowDays', drift: false, env: 'SHOPML_MONITOR_WINDOW_DAYS', flag: 'window-days', min: 1, max: 3650, help: 'longest current window (90)' },
  { key: 'minWindowDays', drift: false, env: 'SHOPML_MONITOR_MIN_WINDOW_DAYS', flag: 'min-window-days', min: 0, max: 3650, help: 'days since training before drift is judged (7)' },
  { key: 'fallbackWindowDays', drift: false, env: 'SHOPML_MONITOR_FALLBACK_DAYS', flag: 'fallback-days', min: 1, max: 3650, help: 'window length before any training (28)' },
  { key: 'aucDrop', drift: false, env: 'SHOPML_MONITOR_AUC_DROP', flag: 'auc-drop', min: 0, max: 1, help: 'churn: live AUC below validation by this much (0.05)' },
  { key: 'brierRise', drift: false, env: 'SHOPML_MONITOR_BRIER_RISE', flag: 'brier-rise', min: 0, max: 1, help: 'churn: live Brier above validation by this much (0.05)' },
  { key: 'forecastErrorRise', drift: false, env: 'SHOPML_MONITOR_FORECAST_RISE', flag: 'forecast-rise', min: 0, max: 100, help: 'forecast: live RMSSE above validation by this share (0.5)' },
  { key: 'minLabelled', drift: false, env: 'SHOPML_MONITOR_MIN_LABELLED', flag: 'min-labelled', min: 1, max: 1e9, integer: true, help: 'customers needed to score churn (50)' },
  { key: 'minProducts', drift: false, env: 'SHOPML_MONITOR_MIN_PRODUCTS', flag: 'min-products', min: 1, max: 1e9, integer: true, help: 'products needed to score the forecast (5)' },
  { key: 'kpiWindowDays', drift: false, env: 'SHOPML_MONITOR_KPI_DAYS', flag: 'kpi-days', min: 1, max: 365, help: 'click-through: current window (7)' },
  { key: 'kpiBaselineDays', drift: false, env: 'SHOPML_MONITOR_KPI_BASELINE_DAYS', flag: 'kpi-baseline-days', min: 1, max: 3650, help: 'click-through: baseline before it (28)' },
  { key: 'ctrDrop', drift: false, env: 'SHOPML_MONITOR_CTR_DROP', flag: 'ctr-drop', min: 0, max: 1, help: 'relative click-through drop (0.2)' },
  { key: 'kpiAlpha', drift: false, env: 'SHOPML_MONITOR_KPI_ALPHA', flag: 'kpi-alpha', min: 1e-9, max: 0.5, help: 'significance of the click-through test (0.01)' },
  { key: 'minRevenueImpact', drift: false, env: 'SHOPML_MONITOR_MIN_REVENUE_IMPACT', flag: 'min-revenue-impact', min: 0, max: 1e15, help: 'loss (store currency) a KPI drop must cost (0: any loss)' },
  { key: 'minImpressions', drift: false, env: 'SHOPML_MONITOR_MIN_IMPRESSIONS', flag: 'min-impressions', min: 1, max: 1e12, integer: true, help: 'impressions per window for a click-through verdict (200)' },
];

/** Every flag the settings accept (all take a value). */
export const SETTING_FLAGS: readonly string[] = [...SETTING_SPECS.map((x) => x.flag), 'method'];

function parseNumber(raw: string, where: string, x: Spec): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || v < x.min || v > x.max || (x.integer && !Number.isInteger(v))) {
    throw new SettingsError(`${where} must be ${x.integer ? 'a whole number' : 'a number'} from ${x.min} to ${x.max} (got "${raw}")`);
  }
  return v;
}

function parseMethod(raw: string, where: string): DriftMethod {
  if (raw !== 'evidently' && raw !== 'pvalue') throw new SettingsError(`${where} must be evidently or pvalue (got "${raw}")`);
  return raw;
}

function collect(get: (x: Spec) => { raw: string; where: string } | null, method: { raw: string; where: string } | null): MonitorSettingsInput {
  const out: MonitorSettingsInput = {};
  const drift: Partial<DriftSettings> = {};
  for (const x of SETTING_SPECS) {
    const g = get(x);
    if (!g) continue;
    const v = parseNumber(g.raw, g.where, x);
    if (x.drift) (drift as Record<string, number>)[x.key] = v;
    else (out as Record<string, number>)[x.key] = v;
  }
  if (method) drift.method = parseMethod(method.raw, method.where);
  if (Object.keys(drift).length) out.drift = drift;
  return out;
}

/** SHOPML_DRIFT_* and SHOPML_MONITOR_* variables (unset or empty: default). */
export function settingsFromEnv(env: Record<string, string | undefined>): MonitorSettingsInput {
  const m = env.SHOPML_DRIFT_METHOD;
  return collect((x) => (env[x.env] ? { raw: env[x.env]!, where: x.env } : null), m ? { raw: m, where: 'SHOPML_DRIFT_METHOD' } : null);
}

/** Parsed CLI options (`{ alpha: '0.01', method: 'pvalue' }`). */
export function settingsFromFlags(options: Record<string, string | true>): MonitorSettingsInput {
  const m = options.method;
  return collect((x) => (typeof options[x.flag] === 'string' ? { raw: options[x.flag] as string, where: `--${x.flag}` } : null), typeof m === 'string' ? { raw: m, where: '--method' } : null);
}

/** Defaults overridden by each input in turn (later wins). */
export function resolveSettings(...inputs: (MonitorSettingsInput | undefined)[]): MonitorSettings {
  let out: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, drift: { ...DEFAULT_MONITOR_SETTINGS.drift } };
  for (const i of inputs) {
    if (!i) continue;
    const { drift, ...rest } = i;
    out = { ...out, ...rest, drift: { ...out.drift, ...drift } };
  }
  return out;
}
