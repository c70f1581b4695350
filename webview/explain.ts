// The Explain panel's page: the image, the top classes, and the chosen class's heatmap, with the method,
// layer, colormap, opacity and layout controls. The host (src/extension/explainPanel.ts) computes;
// this page shows and asks. Messages: src/shared/explainProtocol.ts (ToExplainView / FromExplainView).
// The parts live in webview/explain/: view (shared state), header, toolbar (+ layerPicker, methodPicker),
// status (busy / error), classes, figure (image, heatmap, legend, notes).
import './common/toolkit';
import './explain.css';
import type { ToExplainView } from '../src/shared/protocol';
import { byId, h } from './common/dom';
import { classesSection, showPredictions } from './explain/classes';
import { clearFigures, figureSection, showHeatmap, showImage, showInputNote, watchPanelSize } from './explain/figure';
import { header, showHeader, showModelInfo } from './explain/header';
import { clearError, showBusy, showError, showIdle, statusLine } from './explain/status';
import { fillToolbar, toolbar } from './explain/toolbar';
import { fromCode, onRefresh, refresh, view, vscode } from './explain/view';

function build(): void {
  byId('app').replaceChildren(header(), toolbar(), statusLine(), h('main', {}, classesSection(), figureSection()));
  onRefresh(showModelInfo);
}

window.addEventListener('message', (e: MessageEvent<ToExplainView>) => {
  const m = e.data;
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
      if (view.state) {
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
