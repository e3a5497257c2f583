/** QMP: the server, its command and event declarations, and the JSON stream parser. */
export { commandsFor, eventsFor, type HmpHandler, QMP_COMMANDS, type QmpCommandContext } from './commands.js';
export { renderQmpDocs } from './docs.js';
export { type EventHubOptions, QMP_EVENTS } from './events.js';
export { formatQmpJson, type JsonStreamLimits, JsonStreamParser, type JsonValue } from './json-stream.js';
export {
  QMP_QEMU_VERSION,
  QmpServer,
  type QmpServerHandle,
  type QmpServerOptions,
  startQmpServer,
} from './server.js';
