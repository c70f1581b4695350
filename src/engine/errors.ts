// Errors the user should see as one line. Anything else is an internal fault (shown with its stack under --verbose).

/** A problem with the user's input (a file, an option, a layer name): one clear line, no stack. */
export class LensError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LensError';
  }
}

/** The operation was cancelled between steps. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** "file: problem", with the file's base name kept short but recognisable. */
export function fileError(file: string, problem: string): LensError {
  return new LensError(`${file}: ${problem}`);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e);
}

/**
 * A name read from a file, as shown in a one-line message: control characters escaped (\x0a) and long names
 * shortened. Found by fuzzing: names are arbitrary bytes, and one holding a newline made the error two lines.
 */
export function shownName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > 80 ? `${safe.slice(0, 77)}...` : safe;
}
