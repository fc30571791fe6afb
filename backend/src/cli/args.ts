// A small argument parser: `--name value`, `--name=value`, boolean `--flag`, positionals.
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | true>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], spec: { booleans?: string[]; strings?: string[] }): ParsedArgs {
  const booleans = new Set(spec.booleans ?? []);
  const strings = new Set(spec.strings ?? []);
  const out: ParsedArgs = { positional: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      out.options[name] = true;
    } else if (strings.has(name)) {
      const value = eq === -1 ? argv[++i] : a.slice(eq + 1);
      if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      out.options[name] = value;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}
