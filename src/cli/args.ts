// A small, strict argument parser: unknown options and missing values are usage errors (exit 2).

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  type: OptionType;
  /** One line for --help. */
  help: string;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  valueName?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | string[] | undefined>;
}

export function parseArgs(argv: string[], specs: OptionSpecs): ParsedArgs {
  const positionals: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    const spec = specs[name];
    if (!spec) {
      const close = Object.keys(specs).filter((k) => k.startsWith(name.slice(0, 3)) || name.startsWith(k.slice(0, 3)));
      throw new UsageError(`unknown option --${name}${close.length ? ` (did you mean --${close[0]}?)` : ''}`);
    }
    if (spec.type === 'boolean') {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value: string | undefined = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`);
    value = value.trim();
    if (spec.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
      options[name] = n;
    } else if (spec.type === 'list') {
      options[name] = value.split(',').map((s) => s.trim()).filter(Boolean);
    } else {
      if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}; got '${value}'`);
      options[name] = value;
    }
  }
  return { positionals, options };
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function num(args: ParsedArgs, name: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const v = args.options[name];
  if (typeof v !== 'number') return undefined;
  if (opts.integer && !Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new UsageError(`--${name} must be at least ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new UsageError(`--${name} must be at most ${opts.max}, got ${v}`);
  return v;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}

export function list(args: ParsedArgs, name: string): string[] | undefined {
  const v = args.options[name];
  return Array.isArray(v) ? v : undefined;
}

export function formatOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const left = `  --${k}${s.type === 'boolean' ? '' : ' ' + (s.valueName ?? (s.choices ? s.choices.join('|') : s.type === 'number' ? 'N' : 'VALUE'))}`;
    return [left, s.help] as const;
  });
  const width = Math.min(44, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, h]) => (l.length >= width ? `${l}\n${' '.repeat(width)}${h}` : l.padEnd(width) + h)).join('\n');
}
