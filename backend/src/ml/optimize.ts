// Derivative-free minimisation (Nelder–Mead simplex) for the small maximum-likelihood fits
// (BG/NBD: 4 parameters, Gamma-Gamma: 3). Deterministic: same start, same path.

export interface MinimizeResult {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

export interface NelderMeadOptions {
  maxIterations?: number; // default 2000
  tolerance?: number; // on the spread of values across the simplex, default 1e-10
  step?: number; // initial simplex edge, default 0.5
  restarts?: number; // restart from the best point this many times, default 2
}

export function nelderMead(f: (x: number[]) => number, start: number[], opts: NelderMeadOptions = {}): MinimizeResult {
  const maxIt = opts.maxIterations ?? 2000, tol = opts.tolerance ?? 1e-10, step = opts.step ?? 0.5;
  const safe = (x: number[]): number => { const v = f(x); return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY; };
  let best = { x: start.slice(), value: safe(start) };
  let total = 0, converged = false;
  for (let round = 0; round <= (opts.restarts ?? 2); round++) {
    const r = simplexRun(safe, best.x, step, maxIt, tol);
    total += r.iterations;
    converged = r.converged;
    const improved = r.value < best.value - 1e-12;
    if (r.value <= best.value) best = { x: r.x, value: r.value };
    if (!improved && round > 0) break;
  }
  return { x: best.x, value: best.value, iterations: total, converged };
}

function simplexRun(f: (x: number[]) => number, start: number[], step: number, maxIt: number, tol: number): MinimizeResult {
  const n = start.length;
  const pts: number[][] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i]! + step;
    pts.push(p);
  }
  const vals = pts.map(f);
  const combine = (a: number[], b: number[], t: number): number[] => a.map((ai, i) => ai + t * (b[i]! - ai));
  let it = 0;
  for (; it < maxIt; it++) {
    const order = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
    const sortedP = order.map((i) => pts[i]!), sortedV = order.map((i) => vals[i]!);
    for (let i = 0; i <= n; i++) { pts[i] = sortedP[i]!; vals[i] = sortedV[i]!; }
    if (Math.abs(vals[n]! - vals[0]!) <= tol * (Math.abs(vals[0]!) + tol)) return { x: pts[0]!, value: vals[0]!, iterations: it, converged: true };
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += pts[i]![j]! / n;
    const worst = pts[n]!;
    const xr = combine(centroid, worst, -1), fr = f(xr);
    if (fr < vals[0]!) {
      const xe = combine(centroid, worst, -2), fe = f(xe);
      if (fe < fr) { pts[n] = xe; vals[n] = fe; } else { pts[n] = xr; vals[n] = fr; }
    } else if (fr < vals[n - 1]!) {
      pts[n] = xr; vals[n] = fr;
    } else {
      const outside = fr < vals[n]!;
      const xc = combine(centroid, worst, outside ? -0.5 : 0.5), fc = f(xc);
      if (fc < (outside ? fr : vals[n]!)) { pts[n] = xc; vals[n] = fc; } else {
        for (let i = 1; i <= n; i++) { pts[i] = combine(pts[0]!, pts[i]!, 0.5); vals[i] = f(pts[i]!); }
      }
    }
  }
  let b = 0;
  for (let i = 1; i <= n; i++) if (vals[i]! < vals[b]!) b = i;
  return { x: pts[b]!, value: vals[b]!, iterations: it, converged: false };
}
