/**
 * The Kubernetes API server: REST over HTTP(S) on top of a storage backend.
 * The public surface is the {@link ApiServer} component and the request/response types that
 * in-process clients use.
 */
export { ApiServer, type ApiServerOptions } from './api-server.ts';
export { defaultFrontEndThreads } from './front-end.ts';
export type { ApiRequest, ApiResponse, EventStream } from '../client/index.ts';
export type { KubeObject, ResourceDef } from './resource.ts';
