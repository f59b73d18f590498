import type { Logger } from '../../src/core/log';

/** A Logger that keeps what it was told, for assertions (and for printing when a test fails). */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  private add(level: string, message: unknown) {
    this.lines.push(`${level} ${message instanceof Error ? message.message : String(message)}`);
  }
  trace(m: string) { this.add('trace', m); }
  debug(m: string) { this.add('debug', m); }
  info(m: string) { this.add('info', m); }
  warn(m: string) { this.add('warn', m); }
  error(m: string | Error) { this.add('error', m); }
}
