/** Errors the client raises: each names the request that failed and why. */

/** A qtest request answered with `FAIL ...` or `ERR ...` (libqtest would abort the test). */
export class QTestError extends Error {
  override readonly name = 'QTestError';
  /** The request line as sent (without the newline). */
  readonly request: string;
  /** The reply line, e.g. `FAIL Unknown command 'foo'`. */
  readonly reply: string;

  constructor(request: string, reply: string) {
    super(`qtest request '${request}' failed: ${reply}`);
    this.request = request;
    this.reply = reply;
  }
}

/** A QMP command answered with `{"error": {"class": ..., "desc": ...}}`. */
export class QmpError extends Error {
  override readonly name = 'QmpError';
  /** The command that failed (its `execute` name). */
  readonly command: string;
  /** QEMU's error class: GenericError, CommandNotFound, DeviceNotFound, ... */
  readonly errorClass: string;
  /** The human-readable description the server sent. */
  readonly desc: string;

  constructor(command: string, errorClass: string, desc: string) {
    super(`QMP command '${command}' failed: ${errorClass}: ${desc}`);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

/** The connection or the emulator went away, or the peer broke the protocol. */
export class QTestConnectionError extends Error {
  override readonly name = 'QTestConnectionError';
}
