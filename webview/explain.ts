// The Explain panel's page: the image, the top classes, and the chosen class's heatmap, with the method,
// layer, colormap, opacity and layout controls. The host (src/extension/explainPanel.ts) computes;
// this page shows and asks. Messages: src/shared/explainProtocol.ts (ToExplainView / FromExplainView).
// The parts live in webview/explain/: view (shared state), header, toolbar (+ layerPicker, methodPicker),
// status (busy / error), classes, figure (image, heatmap, legend, notes).
import './common/toolkit';
import './explain.css';
import type { ToExplainView, ToTrustView } from '../src/shared/protocol';
import { methodTitle } from '../src/shared/methods';
import { byId, h } from './common/dom';
import { classesSection, showPredictions } from './explain/classes';
import { clearFigures, figureSection, markStale, showHeatmap, showImage, showInputNote, watchPanelSize } from './explain/figure';
import { header, showHeader, showModelInfo } from './explain/header';
import { clearError, showBusy, showError, showIdle, statusLine } from './explain/status';
import { fillToolbar, toolbar } from './explain/toolbar';
import { change, fromCode, onRefresh, refresh, staleEcho, view, vscode } from './explain/view';
import { mountTrust, onTrustMessage } from './trust/trustView';

function build(): void {
  byId('app').replaceChildren(header(), toolbar(), statusLine(), h('main', {}, classesSection(), figureSection()));
  onRefresh(showModelInfo);
  // The Compare view and Sanity check (webview/trust/): a Single | Compare switch and their sections.
  mountTrust(byId('app'), {
    openSingle: (method, classIndex) => change({ method, classIndex }),
    saveView: (compare) => {
      if (view.state) vscode.setState((view.state = { ...view.state, compare }));
    },
  }, view.state?.compare);
}

window.addEventListener('message', (e: MessageEvent<ToExplainView | ToTrustView>) => {
  // The trust part handles its own messages and watches the panel's (init, options, predictions).
  if (onTrustMessage(e.data)) return;
  const m = e.data as ToExplainView;
  switch (m.type) {
    case 'init':
      if (view.init && view.init.modelName !== m.modelName) {
        clearFigures();
        view.predictions = null;
      }
      view.init = m;
      view.state = m.state;
      vscode.setState(view.state);
      fromCode(() => {
        showHeader(m);
        showImage(m.imageUri);
        fillToolbar();
      });
      refresh();
      return;
    case 'predictions':
      fromCode(() => showPredictions(m.predictions));
      showInputNote(m.inputNote ?? null);
      refresh();
      return;
    case 'options':
      if (view.state && !staleEcho()) {
        view.state = { ...view.state, options: m.options };
        vscode.setState(view.state);
        refresh();
      }
      return;
    case 'heatmap':
      showHeatmap(m.heatmap);
      clearError();
      refresh();
      return;
    case 'busy':
      showBusy(m.message, m.done, m.total);
      return;
    case 'idle':
      showIdle();
      return;
    case 'error':
      showError(m.message, m.fatal === true);
      if (m.fatal !== true && view.state && view.current) {
        // Stale when what was asked for is not what is on show (a cancel puts the choices back: not stale).
        const o = view.state.options;
        const c = view.current;
        const asked = o.method !== c.method || (o.layer ?? null) !== (c.layerIsDefault ? null : c.layer) || (o.classIndex !== null && o.classIndex !== c.classIndex);
        if (asked) markStale(methodTitle(o.method));
      }
      return;
    case 'saved':
      byId('caption').dataset.saved = m.file;
      return;
  }
});

build();
watchPanelSize();
refresh();
vscode.post({ type: 'ready' });
