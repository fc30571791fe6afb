// The real data set beside the project (../shared), used by evaluation tests and benchmarks
// when present; tests that need it are skipped where it is absent (it is data, not a tool).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REAL_DATA_FILE = fileURLToPath(new URL('../../../shared/data/online-retail/online_retail_2010-12_2011-09.csv.gz', import.meta.url));
export const HAS_REAL_DATA = existsSync(REAL_DATA_FILE);
