// The status bar item: the engine's state and backend; a click shows the engine log.
import * as vscode from 'vscode';
import type { EngineState } from '../shared/protocol';

export class EngineStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('cnnLens.engine', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'CNN Lens engine';
    this.item.command = 'cnnLens.showEngineLog';
    this.show({ type: 'stopped' });
    this.item.show();
  }

  show(state: EngineState): void {
    const it = this.item;
    it.backgroundColor = undefined;
    switch (state.type) {
      case 'stopped':
        it.text = '$(circle-outline) CNN Lens';
        it.tooltip = 'CNN Lens: the engine starts with the first request. Click for the engine log.';
        break;
      case 'starting':
        it.text = '$(loading~spin) CNN Lens: starting';
        it.tooltip = 'CNN Lens: the engine is starting';
        break;
      case 'idle':
        it.text = `$(pass) CNN Lens: ${state.backend}`;
        it.tooltip = `CNN Lens engine ready (backend ${state.backend}, pid ${state.pid}). Click for the engine log.`;
        break;
      case 'busy':
        it.text = `$(sync~spin) CNN Lens: ${state.backend}${state.pending > 1 ? ` (${state.pending})` : ''}`;
        it.tooltip = `CNN Lens engine working (backend ${state.backend}, pid ${state.pid}, ${state.pending} request(s) pending)`;
        break;
      case 'crashed':
        it.text = '$(error) CNN Lens: engine stopped';
        it.tooltip = `CNN Lens: ${state.reason}. Run "CNN Lens: Restart Engine" or send a new request to start it again.`;
        it.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
