import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body of the local servers, refusing more than `limitBytes` with the error the
 * server's protocol uses for that (`tooLarge`), before reading the rest.
 */
export async function readRequestBody(request: IncomingMessage, limitBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
