// The explain page's shared state: what the host sent (init, predictions, the heatmap on show) and the
// panel's options as the webview keeps them. Every part of the page reads it here and asks for changes
// through change(); parts register a refresh to redraw when the options change.
import type { ExplainPanelState, ExplainViewOptions, FromExplainView, HeatmapView, Prediction, ToExplainView } from '../../src/shared/protocol';
import { host } from '../common/vscodeApi';

export type Init = Extract<ToExplainView, { type: 'init' }>;
export type Dropdown = HTMLElement & { value: string; disabled?: boolean };

export const vscode = host<FromExplainView, ExplainPanelState>();

export const view = {
  init: null as Init | null,
  state: (vscode.getState() ?? null) as ExplainPanelState | null,
  current: null as HeatmapView | null,
  predictions: null as Prediction[] | null,
  /** The model could not be loaded (or the image read): the page shows the error state. */
  failed: false,
};

export function options(): ExplainViewOptions {
  return view.state!.options;
}

export function topClass(): number | null {
  return view.predictions?.[0]?.index ?? null;
}

const refreshers: (() => void)[] = [];

/** Registers a part's redraw (called after every options change, from either side). */
export function onRefresh(f: () => void): void {
  refreshers.push(f);
}

export function refresh(): void {
  if (!view.state) return;
  fromCode(() => {
    for (const f of refreshers) f();
  });
}

/** True while the page itself sets control values (their change events are not the user's). */
let settingControls = false;

export function fromCode(f: () => void): void {
  const was = settingControls;
  settingControls = true;
  try {
    f();
  } finally {
    settingControls = was;
  }
}

/** Applies a change the user made: remembered in the webview state, sent to the host. */
export function change(o: Partial<ExplainViewOptions>): void {
  if (!view.state || settingControls) return;
  // Controls also fire change events when the page sets their value: only real changes go on.
  // The class on show when none was chosen is the top one: choosing it again changes nothing.
  const cur = { ...view.state.options, classIndex: view.state.options.classIndex ?? view.current?.classIndex ?? topClass() } as unknown as Record<string, unknown>;
  const diff = Object.fromEntries(Object.entries(o).filter(([k, v]) => cur[k] !== v)) as Partial<ExplainViewOptions>;
  if (Object.keys(diff).length === 0) return;
  view.state = { ...view.state, options: { ...view.state.options, ...diff } };
  vscode.setState(view.state);
  echoesDue++;
  vscode.post({ type: 'setOptions', options: diff });
  refresh();
}

/** setOptions sent whose echo has not come back: an older echo must not undo a newer change (the slider snapped back). */
let echoesDue = 0;

/** True when an options message from the host is an echo that a later change of the user's supersedes. */
export function staleEcho(): boolean {
  if (echoesDue === 0) return false;
  echoesDue--;
  return echoesDue > 0;
}

/** The value a radio group's change event stands for (the toolkit's group fires it, also when set from code). */
export function chosenRadio(e: Event): string | null {
  const group = e.currentTarget as HTMLElement & { value?: string };
  return group.value ?? null;
}
