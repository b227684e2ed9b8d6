/**
 * The local cloud shows people what the synchronizer does. The functions log structured JSON
 * (Powertools), exactly as in Lambda; this turns those lines into one readable line each on the
 * way to the terminal. Lines that are not log records (the ready line) pass through unchanged.
 */

type LogRecord = Record<string, unknown> & { level: string; message: string; timestamp?: string };

const COLOURS = { INFO: '\u001b[36m', WARN: '\u001b[33m', ERROR: '\u001b[31m', DEBUG: '\u001b[90m' } as const;
const RESET = '\u001b[0m';

/** Formats JSON log records written to `stream` (the functions log INFO to stdout, WARN/ERROR to stderr). */
export function installHumanLogs(stream: NodeJS.WriteStream = process.stdout, options: { colour?: boolean } = {}): () => void {
  const colour = options.colour ?? (stream.isTTY === true && !process.env.NO_COLOR);
  const original = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  let buffered = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    buffered += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const formatted = formatLine(line, colour);
      if (formatted !== undefined) original(`${formatted}\n`);
      newline = buffered.indexOf('\n');
    }
    const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
  return () => {
    stream.write = original as typeof stream.write;
  };
}

/** One readable line for a log record; `undefined` for a line that is not shown (metrics). */
export function formatLine(line: string, colour = false): string | undefined {
  if (!line.startsWith('{')) return line;
  let record: LogRecord;
  try {
    record = JSON.parse(line) as LogRecord;
  } catch {
    return line;
  }
  // EMF metric records are for CloudWatch; locally they would drown the story in numbers.
  if ('_aws' in record) return undefined;
  if (typeof record.level !== 'string' || typeof record.message !== 'string') return line;
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 19) : '';
  const fn = typeof record.function_name === 'string' ? record.function_name : 'local';
  const level = record.level.padEnd(5);
  const paint = (text: string) => (colour ? `${COLOURS[record.level as keyof typeof COLOURS] ?? ''}${text}${RESET}` : text);
  return `${time} ${paint(level)} ${fn.padEnd(12)} ${record.message}${describe(record)}`;
}

const SKIPPED = new Set([
  'level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id', 'cold_start', 'function_arn',
  'function_memory_size', 'function_name', 'function_request_id',
]);

function describe(record: LogRecord): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (SKIPPED.has(key) || value === undefined) continue;
    if (key === 'summary' && typeof value === 'object' && value !== null) {
      const s = value as Record<string, unknown>;
      parts.push(`scanned=${s.targetsScanned} drifted=${s.drifted} repaired=${s.repaired} heldBack=${s.heldBack} failed=${s.failed} missing=${JSON.stringify(s.missingIntegrations)}`);
      continue;
    }
    if (key === 'error' && typeof value === 'object' && value !== null) {
      parts.push(`error="${String((value as { message?: unknown }).message ?? '')}"`);
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return parts.length > 0 ? `  ${parts.join(' ')}` : '';
}
