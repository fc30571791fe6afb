// A small progress bar for long CLI jobs (import, training): label, bar, percent, rate, ETA.
// Draws on stderr only when it is a terminal (nothing in pipes, CI logs or under --json: pass
// `enabled: false`), redraws at most every `intervalMs`, and clears its line when done.
//
//   const p = createProgress({ label: 'reading', total: bytes, unit: 'bytes' });
//   p.update(doneBytes) … p.tick(1) … p.done();

export interface ProgressOptions {
  label: string;
  /** Total amount of work; 0 or undefined = unknown (no bar, percent or ETA). */
  total?: number;
  /** Defaults to process.stderr. Drawn only if `stream.isTTY`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force on/off (default: on when the stream is a terminal). */
  enabled?: boolean;
  /** How counts and rates are printed. */
  unit?: 'items' | 'bytes';
  /** Minimum ms between redraws. */
  intervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface Progress {
  /** Adds n (default 1) to the amount done. */
  tick(n?: number): void;
  /** Sets the amount done. */
  update(done: number): void;
  /** Changes the total (e.g. once it is known). */
  setTotal(total: number): void;
  /** Final redraw, then clears the line. Idempotent. */
  done(): void;
  /** Whether anything is drawn at all. */
  readonly enabled: boolean;
}

export function formatCount(n: number, unit: 'items' | 'bytes' = 'items'): string {
  if (unit === 'bytes') {
    if (n < 1024) return `${Math.round(n)} B`;
    if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  }
  if (n < 1000) return `${Math.round(n)}`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** One line of progress text for a width (exported for tests). */
export function renderProgress(o: { label: string; done: number; total: number; elapsedMs: number; unit: 'items' | 'bytes'; width: number }): string {
  const rate = o.elapsedMs > 0 ? (o.done * 1000) / o.elapsedMs : 0;
  const rateText = `${formatCount(rate, o.unit)}/s`;
  if (!(o.total > 0)) return `${o.label} ${formatCount(o.done, o.unit)} ${rateText}`.slice(0, o.width);
  const frac = Math.min(1, Math.max(0, o.done / o.total));
  const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
  const eta = rate > 0 ? formatDuration((o.total - o.done) / rate) : '--:--';
  const tail = ` ${pct} ${rateText} ETA ${eta}`;
  const barWidth = Math.max(10, Math.min(40, o.width - o.label.length - tail.length - 3));
  const filled = Math.round(frac * barWidth);
  return `${o.label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`.slice(0, o.width);
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? Boolean((stream as { isTTY?: boolean }).isTTY);
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 100;
  const unit = opts.unit ?? 'items';
  const start = now();
  let total = opts.total ?? 0;
  let done = 0;
  let lastDraw = -Infinity;
  let finished = false;
  let drawn = false;

  const draw = (force: boolean): void => {
    if (!enabled || finished) return;
    const t = now();
    if (!force && t - lastDraw < interval) return;
    lastDraw = t;
    const width = Math.max(40, ((stream as { columns?: number }).columns || 80) - 1);
    stream.write(`\r${renderProgress({ label: opts.label, done, total, elapsedMs: t - start, unit, width })}\u001b[K`);
    drawn = true;
  };

  return {
    enabled,
    tick(n = 1) {
      done += n;
      draw(false);
    },
    update(d) {
      done = d;
      draw(false);
    },
    setTotal(t) {
      total = t;
      draw(false);
    },
    done() {
      if (finished) return;
      draw(true);
      finished = true;
      if (enabled && drawn) stream.write('\r\u001b[K');
    },
  };
}
