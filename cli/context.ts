/**
 * What every command gets: the options common to all commands, the printer, the connection
 * (opened on first use, so `--help` and argument errors never touch the network) and the id
 * this invocation leaves in the audit trail.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Cause } from '../functions/core/model.js';
import { connect, type Connection } from './connection.js';
import { Output, type OutputStream } from './output.js';

/** Exit codes: 0 done (for `plan`: no drift), 1 error, 2 `plan` found drift (`terraform plan -detailed-exitcode`). */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_DRIFT = 2;

/** A command's work: returns the exit code; throws to report an error (exit 1). */
export type CommandHandler<O> = (context: CliContext, options: O) => Promise<number>;

/** Wraps a handler as a commander action: builds the context, reports errors, records the exit code. */
export type Runner = <O>(handler: CommandHandler<O>) => (...args: unknown[]) => Promise<void>;

/** The process's streams and environment; injectable so the CLI can run inside a test. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C: a reconcile in flight stops and releases its lease instead of leaving it to expire. */
  signal?: AbortSignal;
}

/** Options every command accepts (declared on the root command). */
export interface GlobalOptions {
  json: boolean;
  debug: boolean;
  color: boolean;
  stateFile?: string;
  region?: string;
  profile?: string;
  stack?: string;
  table?: string;
}

export class CliContext {
  public readonly io: CliIo;
  public readonly options: GlobalOptions;
  public readonly out: Output;
  /** `cli-<uuid>`: the cause id of everything this invocation writes (audit, registrations). */
  public readonly invocationId = `cli-${randomUUID()}`;
  #connection: Promise<Connection> | undefined;

  public constructor(io: CliIo, options: GlobalOptions) {
    this.io = io;
    this.options = options;
    this.out = new Output({ stdout: io.stdout, stderr: io.stderr, env: io.env, json: options.json, color: options.color });
  }

  public connection(): Promise<Connection> {
    this.#connection ??= connect(this.options, this.io.env, this.io.cwd);
    return this.#connection;
  }

  /** The connection if one was opened (for wording errors), without opening one. */
  public async openedConnection(): Promise<Connection | undefined> {
    return this.#connection?.catch(() => undefined);
  }

  /** `{ signal }` for engine calls, when the run can be interrupted. */
  public get signalOption(): { signal?: AbortSignal } {
    return this.io.signal ? { signal: this.io.signal } : {};
  }

  public get cause(): Cause {
    return { type: 'cli', id: this.invocationId };
  }

  public async close(): Promise<void> {
    await (await this.openedConnection())?.close();
  }
}
