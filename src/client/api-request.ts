/**
 * The API server's request and response, independent of HTTP: the HTTPS listener adapts Node's
 * `http` objects to these, and in-process clients call the handler with them directly. They
 * live with the client because they are the in-process transport's wire format.
 */

/** One API request. */
export interface ApiRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  query: URLSearchParams;
  /** `Accept`, as sent. */
  accept: string | undefined;
  /** `Content-Type`, as sent. */
  contentType: string | undefined;
  /**
   * The request body, already limited in size by the transport: its bytes, or its text when the
   * transport decoded it (valid UTF-8 of a text format) — the front-end threads decode JSON and
   * YAML bodies, so the API thread neither decodes them nor holds a buffer per request.
   */
  body: Uint8Array | string | undefined;
  /** `User-Agent`, as sent; names the field manager of writes that give none. */
  userAgent?: string;
}

/** Options of {@link EventStream.start}. */
export interface EventStreamOptions {
  /**
   * In-process consumers may take events as objects instead of JSON lines: no serializing and
   * parsing. The objects are shared with the server's cache and must not be changed. Streams
   * that can (plain JSON watches) call this instead of `write` for every event.
   */
  objects?: (event: { type: string; object: unknown }) => void;
  /** See {@link WatchHints.onlyChangesTo} (with `objects` only). */
  onlyChangesTo?: readonly string[];
}

/** What a watch's consumer may tell the server beyond the request (in process only). */
export interface WatchHints {
  /**
   * Metadata fields (`ownerReferences`, `finalizers`, …): a MODIFIED event in which neither the
   * object before nor the object after mentions any of them is not delivered. For a consumer
   * that reads nothing else that an update can change — the garbage collector reads these beside
   * the name and uid, which never change — this spares it every other update. A metadata-only
   * watch then also carries, for an object that has none of these fields, its name, namespace,
   * uid and resourceVersion alone. In process only: over HTTP every event arrives, whole.
   */
  onlyChangesTo?: readonly string[];
}

/** A stream of watch events, written as the transport can take them. */
export interface EventStream {
  /**
   * Starts the stream. `write` sends one chunk; `end` closes the response. Returns a function
   * that stops the stream when the client goes away (after which nothing is written).
   */
  start(write: (chunk: string | Uint8Array) => void, end: () => void, options?: EventStreamOptions): () => void;
}

/** One API response: a whole body or an event stream. */
export interface ApiResponse {
  status: number;
  contentType: string;
  /** The whole body: text (usually JSON), or bytes for binary formats. */
  body?: string | Uint8Array;
  stream?: EventStream;
  /** `Warning:` headers, e.g. for deprecated fields or ignored unknown fields. */
  warnings?: string[];
}
