/**
 * What the CLI prints: aligned tables and colour for people, JSON for scripts, a progress line
 * for long runs. Results go to stdout; warnings, progress and prompts go to stderr, so
 * `origin-sync plan --json | jq` always reads one clean JSON document.
 *
 * Colour follows the common conventions: only on a terminal, never with `NO_COLOR` (any non-empty
 * value, https://no-color.org) or `--no-color` or `TERM=dumb`; `FORCE_COLOR` turns it on anyway.
 */
import type { Writable } from 'node:stream';

/** A stream with the `isTTY` flag terminals carry. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const ANSI = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

export function createStyle(enabled: boolean): Style {
  const paint = ([open, close]: readonly [number, number]) => (text: string) => (enabled && text !== '' ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { bold: paint(ANSI.bold), dim: paint(ANSI.dim), red: paint(ANSI.red), green: paint(ANSI.green), yellow: paint(ANSI.yellow), cyan: paint(ANSI.cyan) };
}

/** Whether to colour what goes to `stream`. */
export function colorEnabled(stream: OutputStream, env: NodeJS.ProcessEnv, flag: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const ANSI_PATTERN = /\u001b\[[0-9;]*m/g;

/** Width on screen: escape codes take none. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI_PATTERN, '')].length;
}

/** A table cell: one line, or several (listed origins). */
export type Cell = string | readonly string[];

/**
 * Renders rows under upper-case headings, columns padded to their widest line, two spaces apart.
 * A cell with several lines makes its row that tall; the last column is never padded.
 */
export function renderTable(headings: readonly string[], rows: readonly (readonly Cell[])[], style: Style): string {
  const cells = rows.map((row) => headings.map((_, column) => toLines(row[column])));
  const widths = headings.map((heading, column) =>
    Math.max(visibleWidth(heading), ...cells.map((row) => Math.max(0, ...row[column]!.map(visibleWidth)))),
  );
  const pad = (text: string, column: number) => (column === headings.length - 1 ? text : text + ' '.repeat(widths[column]! - visibleWidth(text)));
  const lines = [style.bold(headings.map((heading, column) => pad(heading, column)).join('  ').trimEnd())];
  for (const row of cells) {
    const height = Math.max(1, ...row.map((cell) => cell.length));
    for (let line = 0; line < height; line += 1) {
      lines.push(row.map((cell, column) => pad(cell[line] ?? '', column)).join('  ').trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

function toLines(cell: Cell | undefined): readonly string[] {
  if (cell === undefined) return [''];
  return typeof cell === 'string' ? [cell] : cell.length === 0 ? [''] : cell;
}

export interface OutputOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  json: boolean;
  /** `false` with `--no-color`. */
  color: boolean;
}

/** The printer every command writes through. */
export class Output {
  public readonly json: boolean;
  /** Colours for stdout. */
  public readonly style: Style;
  /** Colours for stderr (which may be a terminal when stdout is piped, or the other way round). */
  public readonly errorStyle: Style;
  readonly #stdout: OutputStream;
  readonly #stderr: OutputStream;

  public constructor(options: OutputOptions) {
    this.json = options.json;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.style = createStyle(colorEnabled(options.stdout, options.env, options.color));
    this.errorStyle = createStyle(colorEnabled(options.stderr, options.env, options.color));
  }

  /** A line of the result, for people. */
  public line(text = ''): void {
    this.#stdout.write(`${text}\n`);
  }

  public table(headings: readonly string[], rows: readonly (readonly Cell[])[]): void {
    this.#stdout.write(renderTable(headings, rows, this.style));
  }

  /** The result for scripts: one JSON document (pretty-printed, keys in a stable order). */
  public data(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Something a person should notice that is not the result (never mixed into JSON). */
  public warn(text: string): void {
    this.#stderr.write(`${this.errorStyle.yellow('origin-sync: warning:')} ${text}\n`);
  }

  /** A remark on stderr, e.g. what to do next; suppressed with `--json`. */
  public note(text: string): void {
    if (!this.json) this.#stderr.write(`${this.errorStyle.dim(text)}\n`);
  }

  public writeError(text: string): void {
    this.#stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A progress line on stderr, shown only when stderr is a terminal. */
  public progress(): Progress {
    return new Progress(this.#stderr);
  }
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** One line on a terminal, redrawn in place; silent when stderr is not a terminal. */
export class Progress {
  readonly #stream: OutputStream;
  readonly #enabled: boolean;
  #text = '';
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  public constructor(stream: OutputStream) {
    this.#stream = stream;
    this.#enabled = stream.isTTY === true;
  }

  public update(text: string): void {
    if (!this.#enabled) return;
    this.#text = text;
    this.#timer ??= setInterval(() => this.#draw(), 80).unref();
    this.#draw();
  }

  public stop(): void {
    if (!this.#enabled) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write('\r\u001b[2K');
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % FRAMES.length;
    this.#stream.write(`\r\u001b[2K${FRAMES[this.#frame]} ${this.#text}`);
  }
}

/** "12s ago", "in 4m": times relative to now, for people (JSON carries ISO times). */
export function relativeTime(iso: string | undefined, now: Date = new Date()): string {
  if (iso === undefined) return '-';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const seconds = Math.round((time - now.getTime()) / 1000);
  const size = Math.abs(seconds);
  const amount =
    size < 60 ? `${size}s` : size < 3600 ? `${Math.floor(size / 60)}m` : size < 86_400 ? `${Math.floor(size / 3600)}h` : `${Math.floor(size / 86_400)}d`;
  return seconds < 0 ? `${amount} ago` : seconds === 0 ? 'now' : `in ${amount}`;
}

/** ISO time to the second, UTC, readable: `2026-05-01 10:00:01Z`. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Breaks text into lines of at most `width` characters at spaces (a longer word keeps its own line). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** "1 target", "3 targets". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
