/**
 * The API server's proxy of pod logs, exec, attach and port-forward to kubelets; the protocols
 * themselves live in `src/streams`.
 */
export { kubeletLocation, type KubeletClientCertificate, type KubeletLocation } from './kubelet-client.ts';
export { PodStreams, refuseUpgrade, STREAM_SUBRESOURCES, type PodStreamsDeps, type UpgradeRequest } from './pod-streams.ts';
