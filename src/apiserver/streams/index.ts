/**
 * Kubernetes' streaming protocols: WebSocket framing, the channel protocol, SPDY/3.1, and the
 * API server's proxy of pod logs, exec, attach and port-forward to kubelets.
 */
export { acceptKey, acceptUpgrade, isWebSocketUpgrade, messageStream, newKey, offeredProtocols, WebSocket, type WebSocketOptions } from './websocket.ts';
export * from './channel-protocol.ts';
export { acceptSpdyUpgrade, SpdySession, SpdyStream, SPDY3_DICTIONARY, type SpdyHeaders, type SpdySessionOptions } from './spdy.ts';
export { kubeletLocation, type KubeletClientCertificate, type KubeletLocation } from './kubelet-client.ts';
export { PodStreams, refuseUpgrade, STREAM_SUBRESOURCES, type PodStreamsDeps, type UpgradeRequest } from './pod-streams.ts';
