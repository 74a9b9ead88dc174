/**
 * Structured logging with pino. One root logger per process, children per component and per request.
 * Personal data never reaches a log line: the redaction list covers the fields where it could appear.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Paths whose values are replaced before a line is written (NHS numbers, names, dates of birth, addresses). */
export const REDACTED_PATHS = [
  '*.nhsNumber',
  '*.name',
  '*.givenName',
  '*.familyName',
  '*.birthDate',
  '*.dateOfBirth',
  '*.address',
  '*.postcode',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerConfig {
  level: LogLevel;
  /** Human-readable lines (for a terminal) instead of JSON (for log shippers). */
  pretty: boolean;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'throughcare' },
  };
  // Logs go to stderr so that a command's stdout carries only its result (`--json` output, an address).
  if (!config.pretty) return pino(options, pino.destination(2));
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: { destination: 2, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' },
    },
  });
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
