/**
 * Kubernetes' streaming protocols, shared by the API server (which speaks them to kubectl) and
 * the kubelet (which serves exec, attach and port-forward): WebSocket framing (RFC 6455), the
 * channel protocol (`v4`/`v5.channel.k8s.io`), and SPDY/3.1. No dependency on either side.
 */
export { acceptKey, acceptUpgrade, isWebSocketUpgrade, messageStream, newKey, offeredProtocols, WebSocket, type WebSocketOptions } from './websocket.ts';
export * from './channel-protocol.ts';
export { acceptSpdyUpgrade, SpdySession, SpdyStream, SPDY3_DICTIONARY, type SpdyHeaders, type SpdySessionOptions } from './spdy.ts';
