// Type guards for messages that cross a process boundary (plain data; no vscode, DOM or tfjs imports).

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
