import pino, { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { createSecretScrubber } from './secret-scrubber';

/** Header and field paths that never reach a log line, whatever their value. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'req.headers["x-csrf-token"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.api_key',
  '*.apiKey',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
];

/**
 * The root pino logger of a process. Both entrypoints and every log line go through it, so the
 * scrubber sees everything that is written.
 */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const scrub = createSecretScrubber(config.secrets);
  return pino(
    {
      level: config.log.level,
      base: { role: config.role, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: scrub },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
