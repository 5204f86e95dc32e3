import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

// Errors Node's HTTP parser raises before a request exists (a URL or headers over the 16 KiB limit, a
// malformed request line, a client timeout). Fastify's default answer is `{"error":"…","statusCode":431}`;
// this one is the Seam envelope with a `seam-request-id`, like every other response.
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, type, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request took too long to arrive.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'request_header_fields_too_large',
            'The URL or the headers exceed 16 KiB; send parameters as a JSON body.',
          ]
        : [400, 'invalid_request', 'The HTTP request is malformed.'];
  const body = JSON.stringify({ error: { type, message }, ok: false });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nseam-request-id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
