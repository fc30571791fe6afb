// Reliability tests run in two sizes: the short one inside `npm test` (and so in CI), the long one
// with `npm run test:reliability` (SHOPML_RELIABILITY=long). Each test takes its size from here
// and prints the figures it measured as one `RELIABILITY {json}` line, which docs/RELIABILITY.md
// quotes (with the command that reproduces them).
export const LONG = process.env.SHOPML_RELIABILITY === 'long';

/** The short or the long value of a parameter. */
export const size = <T>(short: T, long: T): T => (LONG ? long : short);

/** Prints a measured figure set: `RELIABILITY {"test": name, "profile": "short"|"long", ...figures}`. */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  console.log(`RELIABILITY ${JSON.stringify({ test, profile: LONG ? 'long' : 'short', ...figures })}`);
}
