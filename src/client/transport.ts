/**
 * How a client reaches the API server. Two transports share one interface: over HTTP(S) for
 * remote clients, and in-process for components of the single-process server (no TCP; the
 * request still goes through the API server's handler with its validation and admission).
 */
import type { ApiRequest, ApiResponse, WatchHints } from './api-request.ts';

/** One request to the API, with a decoded JSON body. */
export interface ClientRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Defaults to `application/json`. */
  contentType?: string;
  /** Defaults to `application/json`; `application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1` asks for metadata only. */
  accept?: string;
}

/** A decoded response: the status code and the parsed JSON body. */
export interface ClientResponse<T = unknown> {
  status: number;
  body: T;
}

/** One watch event as the API sends it. */
export interface WatchEventMessage<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Carries requests to an API server. */
export interface Transport {
  request<T = unknown>(request: ClientRequest): Promise<ClientResponse<T>>;
  /**
   * Opens a watch (`watch=true` is added). `onEvent` receives events in order; `onEnd` is called
   * once when the server ends the stream. Returns a function that stops the watch. Event
   * objects may be shared with other watchers (in-process): treat them as read-only. `hints`
   * serve the in-process transport only (see {@link WatchHints}); over HTTP they change nothing.
   */
  watch<T = unknown>(
    request: Omit<ClientRequest, 'method' | 'body'>,
    onEvent: (event: WatchEventMessage<T>) => void,
    onEnd: () => void,
    hints?: WatchHints,
  ): Promise<() => void>;
}

const decoder = new TextDecoder();

/** Options of {@link LocalTransport}. */
export interface LocalTransportOptions {
  /** The `User-Agent` of every request: names the field manager of writes. Default `skiff`. */
  userAgent?: string;
}

/** The in-process transport over an API server's `handle`. */
export class LocalTransport implements Transport {
  readonly #handle: (request: ApiRequest) => Promise<ApiResponse>;
  readonly #userAgent: string;

  constructor(handle: (request: ApiRequest) => Promise<ApiResponse>, options: LocalTransportOptions = {}) {
    this.#handle = handle;
    this.#userAgent = options.userAgent ?? 'skiff';
  }

  /** The same server, with another user agent (one per component, as upstream's managers). */
  withUserAgent(userAgent: string): LocalTransport {
    return new LocalTransport(this.#handle, { userAgent });
  }

  async request<T>(request: ClientRequest): Promise<ClientResponse<T>> {
    const response = await this.#handle(toApiRequest(request, this.#userAgent));
    const text = typeof response.body === 'string' ? response.body : new TextDecoder().decode(response.body);
    return { status: response.status, body: JSON.parse(text || 'null') as T };
  }

  async watch<T>(
    request: Omit<ClientRequest, 'method' | 'body'>,
    onEvent: (event: WatchEventMessage<T>) => void,
    onEnd: () => void,
    hints: WatchHints = {},
  ): Promise<() => void> {
    const response = await this.#handle(toApiRequest({ ...request, method: 'GET', query: { ...request.query, watch: 'true' } }, this.#userAgent));
    if (!response.stream) {
      onEnd();
      throw new Error(`watch ${request.path} failed: ${response.status} ${response.body}`);
    }
    return response.stream.start(
      (chunk) => {
        const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk);
        for (const line of text.split('\n')) if (line) onEvent(JSON.parse(line) as WatchEventMessage<T>);
      },
      onEnd,
      // In process, events arrive as the server's own objects: nothing to serialize or parse.
      { objects: (event) => onEvent(event as WatchEventMessage<T>), ...(hints.onlyChangesTo ? { onlyChangesTo: hints.onlyChangesTo } : {}) },
    );
  }
}

function toApiRequest(request: ClientRequest, userAgent: string): ApiRequest {
  return {
    method: request.method,
    path: request.path,
    query: new URLSearchParams(request.query ?? {}),
    accept: request.accept ?? 'application/json',
    contentType: request.contentType ?? 'application/json',
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    userAgent,
  };
}
