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
