export const BENCH_SECRET = 'bench-api-secret-0123456789';
