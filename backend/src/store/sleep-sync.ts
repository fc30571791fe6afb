// Blocks the calling thread for `ms` (fractions allowed) without spinning the CPU: for worker
// threads that wait on SQLite's write lock and have nothing else to do meanwhile.
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
