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

/** Names the errno of a failed system call the way strerror() does (for QEMU-style messages). */
export function describeSystemError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EADDRINUSE':
      return 'Address already in use';
    case 'EADDRNOTAVAIL':
      return 'Cannot assign requested address';
    case 'ETIMEDOUT':
      return 'Connection timed out';
    case 'EHOSTUNREACH':
      return 'No route to host';
    case 'ENETUNREACH':
      return 'Network is unreachable';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'ELOOP':
      return 'Too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'File name too long';
    case 'EPERM':
      return 'Operation not permitted';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTSOCK':
      return 'Socket operation on non-socket';
    case 'ENXIO':
      return 'No such device or address';
    case 'EROFS':
      return 'Read-only file system';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Name or service not known';
    default:
      if (err instanceof Error) return code ? `${code}` : err.message;
      return String(err);
  }
}
