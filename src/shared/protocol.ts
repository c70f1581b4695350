// The messages that cross CNN Lens's process boundaries, one module per boundary:
//   engineProtocol.ts        host ↔ engine child process
//   explainProtocol.ts       host ↔ explain panel
//   compareProtocol.ts       host ↔ explain panel: the Compare view and Sanity check
//   modelBrowserProtocol.ts  host ↔ model browser
//   visualizeProtocol.ts     host ↔ visualization panel
//   auditProtocol.ts         host ↔ Audit panel (and the engine's audit request)
// This file re-exports them all; new code imports the module of its own boundary.
export * from './guards';
export * from './engineProtocol';
export * from './explainProtocol';
export * from './compareProtocol';
export * from './trustRecords';
export * from './modelBrowserProtocol';
export * from './visualizeProtocol';
export * from './auditProtocol';
