/**
 * @tsemu/qtest: drive tsemu (or any QEMU-compatible binary) from TypeScript tests the way
 * QEMU's libqtest does: launch with `QTestSession.start`, then use the `qtest` (memory, IRQs,
 * clock), `qmp` (commands, events) and `serial` handles.
 */
export { defaultBinary, tsemuPackageDir } from './binary.js';
export { QmpError, QTestConnectionError, QTestError } from './errors.js';
export { JsonStreamSplitter } from './json-stream.js';
export type { QmpEvent, QmpGreeting, QmpResponse, QmpTimestamp } from './qmp.js';
export { QmpClient } from './qmp.js';
export type { IrqChange, Word } from './qtest.js';
export { QTestClient } from './qtest.js';
export { SerialPort } from './serial.js';
export type { ExitStatus, QTestSessionOptions } from './session.js';
export { QTestSession, shellQuote } from './session.js';
