/**
 * Typed errors shared by every service. Each carries a stable machine `code`
 * and the HTTP `status` it maps to; `errorMiddleware` turns them into the
 * JSON shape every endpoint uses: `{ error: { code, message } }`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Missing or invalid API token (send "Authorization: Bearer <token>").') {
    super(401, 'unauthorized', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string, code = 'forbidden') {
    super(403, code, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(404, code, message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

/** Multer's own error codes, mapped to our status and code. */
const MULTER_ERRORS: Record<string, [number, string]> = {
  LIMIT_FILE_SIZE: [413, 'payload_too_large'],
  LIMIT_PART_COUNT: [400, 'too_many_parts'],
  LIMIT_FILE_COUNT: [400, 'too_many_files'],
  LIMIT_FIELD_KEY: [400, 'field_name_too_long'],
  LIMIT_FIELD_VALUE: [400, 'field_value_too_long'],
  LIMIT_FIELD_COUNT: [400, 'too_many_fields'],
  LIMIT_UNEXPECTED_FILE: [400, 'unexpected_file_field'],
  MISSING_FIELD_NAME: [400, 'missing_field_name'],
};

/** Normalises anything thrown in a request into an AppError. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) {
    const [status, code] = MULTER_ERRORS[err.code] ?? [400, 'bad_upload'];
    const field = err.field ? ` (field "${err.field}")` : '';
    return new AppError(status, code, `${err.message}${field}`);
  }
  const e = err as { type?: string; status?: number; message?: string };
  // body-parser errors (malformed JSON, too large) carry `type` and `status`.
  if (e && typeof e.type === 'string' && typeof e.status === 'number' && e.status < 500) {
    const code = e.type === 'entity.parse.failed' ? 'invalid_json' : e.type.replace(/\./g, '_');
    return new AppError(e.status, code, e.message ?? 'Bad request');
  }
  return new AppError(500, 'internal', 'Internal server error');
}

/** Final Express error handler: logs 5xx with the stack, answers JSON. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appErr = toAppError(err);
    const log = (req as { log?: Logger }).log ?? logger;
    if (appErr.status >= 500) log.error({ err }, 'request failed');
    else log.info({ code: appErr.code, status: appErr.status }, appErr.message);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(appErr.status).json({ error: { code: appErr.code, message: appErr.message } });
  };
}

/** 404 for unmatched routes, in the same JSON shape. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`No route for ${req.method} ${req.path}`, 'route_not_found'));
};
