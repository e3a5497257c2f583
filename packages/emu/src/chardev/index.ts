export {
  Chardev,
  type ChardevCommonOptions,
  type CharEvent,
  type CharFrontend,
  describeSystemError,
  InputQueue,
} from './chardev.js';
export { FileChardev, type FileChardevOptions } from './file.js';
export { MAX_MUX, MUX_HELP, MuxChardev } from './mux.js';
export { NullChardev } from './null.js';
export { PipeChardev, type PipeChardevOptions } from './pipe.js';
export { RINGBUF_DEFAULT_SIZE, RingbufChardev } from './ringbuf.js';
export { type SocketAddress, SocketChardev, type SocketChardevOptions } from './socket.js';
export {
  CHARDEV_BACKENDS,
  type ChardevBackendName,
  type ChardevCommonSpec,
  type ChardevDefinition,
  type ChardevEnv,
  type ChardevOptions,
  ChardevRegistry,
  type CharSpec,
  chardevHelpText,
  createChardev,
  isChardevHelp,
  parseChardevOption,
  parseCharSpec,
  parseKeyValueList,
} from './spec.js';
export { StdioChardev, type StdioChardevOptions } from './stdio.js';
