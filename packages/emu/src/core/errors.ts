/**
 * Errors a user can cause (bad option, bad file, bad property value). The command line prints
 * `message` on one line and exits 1; QMP turns `qmpClass` into the error class of its reply.
 * Anything else thrown is an internal bug and keeps its stack trace.
 */
export type QmpErrorClass = 'GenericError' | 'CommandNotFound' | 'DeviceNotFound';

export class UserError extends Error {
  readonly qmpClass: QmpErrorClass;
  constructor(message: string, qmpClass: QmpErrorClass = 'GenericError') {
    super(message);
    this.name = 'UserError';
    this.qmpClass = qmpClass;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
