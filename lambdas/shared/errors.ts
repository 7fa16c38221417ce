/**
 * Typed errors shared by every service. Domain code throws these; the HTTP layer maps each one
 * to its status and a `{ code, message }` body in one place (lambdas/shared/http.ts).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the error is about, when there is one. */
    readonly field?: string,
    /** Extra data a client can act on, e.g. the current status after a refused write. */
    readonly details?: Record<string, unknown>,
    /** Seconds after which the same request may succeed: answered as `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    // The code, not the class's name: the functions' bundles are minified, which renames
    // classes, and a reason shown to operators (a parked event's in GET /nodes, a job's error,
    // a log line) read "Xe: ..." there. The code is what the API documents, and survives.
    this.name = code;
  }
}

export class ValidationError extends AppError {
  constructor(field: string, message: string) {
    super(400, 'INVALID_REQUEST', field ? `${field}: ${message}` : message, field);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super(404, 'NOT_FOUND', `${what} ${id} does not exist`);
  }
}

export class GoneError extends AppError {
  constructor(code: string, message: string) {
    super(410, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, undefined, details);
  }
}

export class PreconditionFailedError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(412, 'PRECONDITION_FAILED', message, undefined, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(contentType: string | undefined) {
    super(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json (got ${contentType ? `'${contentType}'` : 'none'})`,
    );
  }
}

/** 405: a method the resource does not take; answered with `Allow` naming those it does. */
export class MethodNotAllowedError extends AppError {
  constructor(
    readonly allow: readonly string[],
    message: string,
  ) {
    super(405, 'METHOD_NOT_ALLOWED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'FORBIDDEN', message);
  }
}

/** An AWS resource name: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
const ARN = /\barn:aws[a-z-]*:[^\s"'<>,;()]+/g;

/**
 * `text` without AWS resource names, for reasons recorded where API callers read them (`GET
 * /nodes`, jobs, the console): an AccessDenied message names the function's role and the table
 * with the account id. The function's own log keeps the whole error.
 */
export function withoutArns(text: string): string {
  return text.replace(ARN, 'arn:(left out)');
}
