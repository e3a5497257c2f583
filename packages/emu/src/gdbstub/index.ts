/** The GDB remote stub (see server.ts) and its packet layer and target description. */
export { type GdbMonitor, GdbServer, type GdbServerOptions, PACKET_SIZE, startGdbServer } from './server.js';
