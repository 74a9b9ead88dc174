/**
 * The HTTP server everything `throughcare up` serves runs on. Requests Node's parser refuses before Express sees
 * them (a header section over 16 KiB, bytes a request line may not hold, a broken request line) are answered as
 * problem+json too, not with Node's bare status line, so every client error reads the same way.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from './problem';

export function createHttpServer(app: http.RequestListener): http.Server {
  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  return server;
}

/** What Node's parser refused, by its error code: the status and what to tell the client. */
function refusalOf(code: string | undefined): { status: number; detail: string } {
  switch (code ?? '') {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, detail: 'The request headers are larger than this server accepts (16 KiB in all).' };
    case 'HPE_URI_TOO_LONG':
      return { status: 414, detail: 'The request target is longer than this server accepts.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request was not received in time.' };
    default:
      return {
        status: 400,
        detail:
          'The request is not valid HTTP/1.1: its request line or headers hold characters they may not ' +
          '(percent-encode anything outside ASCII in the path and query).',
      };
  }
}

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // The client went away, or an answer is already on its way: nothing to say.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, detail } = refusalOf(error.code);
  const title = http.STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({
    type: `${PROBLEM_BASE}${title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
    title,
    status,
    detail,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
