// The webview side of postMessage and state, typed per panel.
interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export interface Host<ToHost, State> {
  post(m: ToHost): void;
  getState(): State | undefined;
  setState(s: State): void;
}

let api: VsCodeApi<unknown> | null = null;

export function host<ToHost, State>(): Host<ToHost, State> {
  api ??= acquireVsCodeApi<unknown>();
  const a = api;
  return {
    post: (m) => a.postMessage(m),
    getState: () => a.getState() as State | undefined,
    setState: (s) => a.setState(s),
  };
}
