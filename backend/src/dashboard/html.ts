// Building blocks for server-rendered HTML: escaping, JSON for <script type="application/json">,
// and the number and date formats every panel shares.

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, escaped. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** A tagged template whose interpolations are escaped, except values made by `raw`. */
export interface Raw { readonly __html: string }
export const raw = (html: string): Raw => ({ __html: html });
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1]!;
  return raw(out);
}
function piece(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(piece).join('');
  if (typeof v === 'object' && '__html' in (v as object)) return (v as Raw).__html;
  return esc(v);
}

/**
 * JSON safe inside <script type="application/json">: `<`, `>` and `&` as \u escapes (so no
 * `</script>` or `<!--` can end the block), NaN and ±Infinity as null (JSON has neither).
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export const fin = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** A number with at most `digits` decimals (thousands separated), or an en dash. */
export function num(x: number | null | undefined, digits = 2): string {
  if (!fin(x)) return '–';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A share as a percentage. */
export function pct(x: number | null | undefined, digits = 1): string {
  return fin(x) ? `${(x * 100).toFixed(digits)}%` : '–';
}

/** A p-value in a readable form. */
export function pval(p: number | null | undefined): string {
  if (!fin(p)) return '–';
  if (p < 1e-4) return p.toExponential(1);
  return p.toPrecision(2);
}

/** The first 12 hex characters of a version (what the CLI shows). */
export const short = (v: string | null | undefined): string => (v ? v.slice(0, 12) : '–');

/** ISO → "2026-05-01 14:03 UTC". */
export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export const day = (iso: string | null | undefined): string => (iso ? String(iso).slice(0, 10) : '–');
