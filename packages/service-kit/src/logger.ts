/** JSON logs (pino) for every service; one root logger per process. */
import { pino, type Logger } from 'pino';

export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}

export type { Logger };
