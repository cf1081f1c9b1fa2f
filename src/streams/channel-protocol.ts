/**
 * Kubernetes' channel protocol over WebSocket (`v4.channel.k8s.io`, `v5.channel.k8s.io`): each
 * binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a
 * metav1.Status as JSON when the command ends), 4 resize (JSON `{"Width":W,"Height":H}`) —
 * and v5 adds channel 255, whose message `[255, n]` closes channel n (stdin's end of input).
 * Port-forward over WebSocket uses the same framing with two channels per port (data 2i, error
 * 2i+1), the first message of each channel carrying the port as two little-endian bytes.
 */

/** Channel numbers. */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: `[CLOSE, n]` closes channel n. */
export const CLOSE = 255;

/** Subprotocol names. */
export const V5_PROTOCOL = 'v5.channel.k8s.io';
export const V4_PROTOCOL = 'v4.channel.k8s.io';
/** kubectl 1.31+ port-forward: SPDY/3.1 frames tunnelled in binary WebSocket messages. */
export const SPDY_PORT_FORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
/** The SPDY stream protocol of port-forward (`X-Stream-Protocol-Version`). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** One channel message: the channel byte, then `data`. */
export function channelMessage(channel: number, data: Uint8Array | string = new Uint8Array(0)): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const message = Buffer.allocUnsafe(1 + body.length);
  message[0] = channel;
  message.set(body, 1);
  return message;
}

/** A metav1.Status, as the error channel carries it. */
export interface ExecStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
}

/** The error channel's Status for a command that ended with `exitCode` (as upstream's kubelet words it). */
export function exitStatus(exitCode: number, command: string[] = []): ExecStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The error channel's Status for a failure that is not an exit code. */
export function failureStatus(message: string): ExecStatus {
  return { metadata: {}, status: 'Failure', message };
}

/** The exit code a Status reports: 0 for Success, the `ExitCode` cause, or undefined for other failures. */
export function exitCodeOf(status: ExecStatus): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.reason === 'NonZeroExitCode' ? status.details?.causes.find((c) => c.reason === 'ExitCode') : undefined;
  return cause ? Number(cause.message) : undefined;
}

/**
 * Splits a stream of concatenated JSON objects (the resize channel and SPDY resize stream
 * carry one object after another) into objects; feed it chunks as they arrive.
 */
export class JsonObjectSplitter {
  #text = '';

  /** Adds `chunk`; returns the objects it completed. Malformed objects are skipped. */
  push(chunk: Uint8Array | string): unknown[] {
    this.#text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    const out: unknown[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let escaped = false;
    let consumed = 0;
    for (let i = 0; i < this.#text.length; i++) {
      const c = this.#text[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          try {
            out.push(JSON.parse(this.#text.slice(start, i + 1)));
          } catch {
            // skipped
          }
          consumed = i + 1;
        }
      }
    }
    this.#text = depth === 0 ? '' : this.#text.slice(consumed);
    return out;
  }
}

/** A terminal size from a resize message, or undefined when it is not one. */
export function terminalSize(value: unknown): { width: number; height: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  if (typeof Width !== 'number' || typeof Height !== 'number') return undefined;
  return { width: Width, height: Height };
}
