/**
 * Typed errors for the services. An `AppError` carries a code from the
 * contract's table (`ERROR_STATUS`), which also gives its HTTP status;
 * `errorMiddleware` is the one place that turns anything thrown in a request
 * into the JSON shape every endpoint uses: `{ error: { code, message } }`.
 */
import { ERROR_STATUS, type ErrorCode } from '@vod/contract';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';

export class AppError extends Error {
  /** HTTP status, from the contract's error table. */
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = ERROR_STATUS[code];
  }
}

/** Multer's error codes (MulterError.code) and the API code each becomes. */
const MULTER_CODES: Record<string, ErrorCode> = {
  LIMIT_FILE_SIZE: 'payload_too_large',
  LIMIT_PART_COUNT: 'too_many_parts',
  LIMIT_FILE_COUNT: 'too_many_files',
  LIMIT_FIELD_KEY: 'field_name_too_long',
  LIMIT_FIELD_VALUE: 'field_value_too_long',
  LIMIT_FIELD_COUNT: 'too_many_fields',
  LIMIT_UNEXPECTED_FILE: 'unexpected_file_field',
  MISSING_FIELD_NAME: 'missing_field_name',
};

/** body-parser's error `type`s (express.json) and the API code each becomes. */
const BODY_PARSER_CODES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
};

/** Normalises anything thrown in a request into an AppError (unknown errors become 500 `internal`). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { name?: string; code?: string; field?: string; type?: string; status?: number; message?: string } | null;
  // Matched by name, not instanceof, so services without Multer need not load it.
  if (e?.name === 'MulterError') {
    const field = e.field ? ` (field "${e.field}")` : '';
    return new AppError(MULTER_CODES[e.code ?? ''] ?? 'bad_upload', `${e.message}${field}`);
  }
  // body-parser errors (malformed JSON, too large) carry `type` and a 4xx `status`.
  if (e && typeof e.type === 'string' && typeof e.status === 'number' && e.status < 500) {
    return new AppError(BODY_PARSER_CODES[e.type] ?? 'bad_request', e.message ?? 'Bad request');
  }
  return new AppError('internal', 'Internal server error');
}

/** Final Express error handler: logs 5xx with the stack (4xx as info), answers JSON. */
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
  next(new AppError('route_not_found', `No route for ${req.method} ${req.path}`));
};
