/**
 * Questions to the person at the terminal: confirmations and secrets. Both read stdin; prompts go
 * to stderr so stdout stays the command's result. A secret is never echoed.
 */
import { createInterface } from 'node:readline/promises';
import type { CliIo } from './context.js';
import { CliError } from './errors.js';

/** Asks a yes/no question on the terminal; only "y" or "yes" confirms (Ctrl-C and Ctrl-D say no). */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const readline = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdin.isTTY === true });
  const cancel = new AbortController();
  readline.once('SIGINT', () => cancel.abort());
  readline.once('close', () => cancel.abort());
  try {
    const answer = await readline.question(`${question} [y/N] `, { signal: cancel.signal });
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch (error) {
    if (cancel.signal.aborted) {
      io.stderr.write('\n');
      return false;
    }
    throw error;
  } finally {
    readline.close();
  }
}

/**
 * Reads a secret: from a pipe (`pass show qlik | origin-sync tenants add ... --api-key-stdin`), the
 * first line of what arrives; on a terminal, typed at a prompt that shows nothing.
 */
export async function readSecret(io: CliIo, label: string): Promise<string> {
  const value = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function' ? await readHidden(io, label) : await readFirstLine(io);
  const secret = value.trim();
  if (secret === '') throw new CliError(`no ${label} on stdin`, { code: 'usage', hint: `pipe the ${label} into the command, or type it at the prompt` });
  return secret;
}

async function readFirstLine(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
}

function readHidden(io: CliIo, label: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(`${label}: `);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const character of chunk.toString()) {
        if (character === '\r' || character === '\n' || character === '\u0004') return finish();
        if (character === '\u0003') return finish(new CliError('cancelled', { code: 'not-confirmed' }));
        if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else value += character;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
