// Samples another process's resident memory (VmRSS from /proc/PID/status, Linux) at a fixed
// interval, from outside: what the operating system charges the server, heap and native alike.
import { readFileSync } from 'node:fs';
import { linearSlope } from '../backend/src/ml/stats.ts';

export interface RssSample {
  /** Seconds since the sampler started. */
  t: number;
  mb: number;
}

export interface RssSampler {
  readonly samples: RssSample[];
  stop(): RssSample[];
}

/** Resident set size of PID in MB, or null when the process is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export function startRssSampler(pid: number, everyMs = 1000): RssSampler {
  const samples: RssSample[] = [];
  const t0 = performance.now();
  const take = () => {
    const mb = rssMb(pid);
    if (mb !== null) samples.push({ t: (performance.now() - t0) / 1000, mb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Growth of the samples taken from fromSeconds on, MB per minute (least squares), and their range. */
export function rssTrend(samples: RssSample[], fromSeconds: number): { slopeMbPerMin: number; minMb: number; maxMb: number; n: number } {
  const after = samples.filter((s) => s.t >= fromSeconds);
  return {
    slopeMbPerMin: linearSlope(after.map((s) => s.t), after.map((s) => s.mb)) * 60,
    minMb: Math.min(...after.map((s) => s.mb)),
    maxMb: Math.max(...after.map((s) => s.mb)),
    n: after.length,
  };
}
