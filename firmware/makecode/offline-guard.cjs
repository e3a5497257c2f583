// Preloaded into the pxt CLI (`node --require`) by build.sh so that a MakeCode build never uses
// the network, even on a machine that has one. Every socket connection fails the way it would on
// an offline machine (asynchronously, with ENETUNREACH), so pxt takes its offline code paths:
// - each build asks www.makecode.com for the target's targetconfig and, on failure, uses an
//   empty config (it only lists approved/banned GitHub extensions, which we do not use);
// - when the C++ runtime for a dependency set is missing from pxt-microbit's bundled hexcache,
//   pxt asks the cloud compiler; offline it stops with "The hex file is not available".
// Without this guard the first call would make builds depend on whatever the server says today.
'use strict';

const dns = require('node:dns');
const net = require('node:net');

function describe(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') {
    if (first.path) return String(first.path);
    return `${first.host ?? first.servername ?? 'localhost'}:${first.port ?? '?'}`;
  }
  return `${args[1] ?? 'localhost'}:${first}`;
}

function offlineError(target) {
  const err = new Error(`offline build: network access to ${target} is blocked`);
  err.code = 'ENETUNREACH';
  return err;
}

const reported = new Set();
function note(target) {
  if (reported.has(target)) return;
  reported.add(target);
  process.stderr.write(`offline-guard: blocked a connection to ${target}\n`);
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectBlocked(...args) {
  const target = describe(args);
  // Local IPC (pipes, Unix sockets) is not network and pxt may use it for child processes.
  if (target.startsWith('/') || target.startsWith('\\\\')) return originalConnect.apply(this, args);
  note(target);
  process.nextTick(() => this.destroy(offlineError(target)));
  return this;
};

dns.lookup = function lookupBlocked(hostname, ...rest) {
  const callback = rest[rest.length - 1];
  note(String(hostname));
  process.nextTick(() => callback(offlineError(String(hostname))));
  return {};
};
dns.promises.lookup = async (hostname) => {
  note(String(hostname));
  throw offlineError(String(hostname));
};
