/**
 * Pod specs, wherever they appear (Pods, and the templates of Deployments, ReplicaSets,
 * StatefulSets, DaemonSets, Jobs and CronJobs): upstream's defaults (`pkg/apis/core/v1/
 * defaults.go` plus what the ServiceAccount, Priority and DefaultTolerationSeconds admission
 * plugins add to Pods), validation (`pkg/apis/core/validation`), the rule for what a Pod update
 * may change, and the QoS class.
 */
import type { FieldError, KubeObject } from '../resource.ts';
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  duplicate,
  forbidden,
  invalid,
  notSupported,
  parseQuantity,
  qualifiedNameErrors,
  quantityErrors,
  required,
  validateAnnotations,
  validateLabels,
  labelValueErrors,
} from '../validation/index.ts';
import {
  PORT_PROTOCOLS,
  arrayOf,
  at,
  clone,
  configKeyErrors,
  deepEqual,
  duplicates,
  ensureObject,
  inclusiveRange,
  isObject,
  key,
  nonNegative,
  notFound,
  objectsOf,
  portNameErrors,
  portNumErrors,
  portNumOrNameErrors,
  str,
  type JsonObject,
} from './checks.ts';

// ---------------------------------------------------------------------------------------------
// Defaults

/** The default ServiceAccount every Pod runs as unless it names another. */
const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Upstream's `DefaultTolerationSeconds` admission: how long pods outlive an unhealthy node. */
const DEFAULT_TOLERATION_SECONDS = 300;
/** File mode of secret, configMap, downwardAPI and projected volumes: 0644. */
const DEFAULT_VOLUME_MODE = 0o644;

/**
 * The tag an image reference pulls, as upstream's `parsers.ParseImageName` reads it: the part
 * after the last `:` of the last path component, `latest` when there is neither tag nor digest,
 * empty when there is only a digest.
 */
function imageTag(image: string): string {
  const digestAt = image.indexOf('@');
  const name = digestAt >= 0 ? image.slice(0, digestAt) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) return name.slice(colon + 1);
  return digestAt >= 0 ? '' : 'latest';
}

/**
 * Fills the defaults upstream gives every pod spec, template or not: `restartPolicy: Always`,
 * `dnsPolicy: ClusterFirst`, `securityContext: {}`, `terminationGracePeriodSeconds: 30`,
 * `schedulerName: default-scheduler`, and per container, probe, volume and port the defaults
 * below. Does not add the Pod-only defaults (see {@link defaultPod}).
 */
export function defaultPodSpec(spec: JsonObject): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    spec.terminationGracePeriodSeconds = 30;
  }
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const [, container] of objectsOf(spec[list])) defaultContainer(container);
  }
  for (const [, volume] of objectsOf(spec.volumes)) defaultVolume(volume);
}

/**
 * A container's defaults: `imagePullPolicy` (`Always` for `:latest` or an untagged image,
 * else `IfNotPresent`), `terminationMessagePath: /dev/termination-log`,
 * `terminationMessagePolicy: File`, `resources: {}`, port protocol `TCP`, probe timings, and
 * `apiVersion: v1` on downward-API env references.
 */
function defaultContainer(c: JsonObject): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  if (!isObject(c.resources)) c.resources = {};
  for (const [, port] of objectsOf(c.ports)) {
    if (!port.protocol) port.protocol = 'TCP';
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (isObject(c[probe])) defaultProbe(c[probe]);
  }
  if (isObject(c.lifecycle)) {
    for (const hook of ['postStart', 'preStop']) {
      const handler = c.lifecycle[hook];
      if (isObject(handler) && isObject(handler.httpGet)) defaultHttpGet(handler.httpGet);
    }
  }
  for (const [, env] of objectsOf(c.env)) {
    const fieldRef = isObject(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isObject(fieldRef) && !fieldRef.apiVersion) fieldRef.apiVersion = 'v1';
  }
}

/** Probe timings: timeout 1s, period 10s, success threshold 1, failure threshold 3. */
function defaultProbe(probe: JsonObject): void {
  if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
  if (!probe.periodSeconds) probe.periodSeconds = 10;
  if (!probe.successThreshold) probe.successThreshold = 1;
  if (!probe.failureThreshold) probe.failureThreshold = 3;
  if (isObject(probe.httpGet)) defaultHttpGet(probe.httpGet);
}

function defaultHttpGet(action: JsonObject): void {
  if (!action.path) action.path = '/';
  if (!action.scheme) action.scheme = 'HTTP';
}

/**
 * A volume's defaults: `emptyDir: {}` when it names no source; mode 0644 on secret, configMap,
 * downwardAPI and projected volumes; one-hour service-account tokens; `hostPath.type: ""`.
 */
function defaultVolume(volume: JsonObject): void {
  if (Object.keys(volume).every((k) => k === 'name' || volume[k] === undefined || volume[k] === null)) {
    volume.emptyDir = {};
  }
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = volume[source];
    if (isObject(s) && (s.defaultMode === undefined || s.defaultMode === null)) s.defaultMode = DEFAULT_VOLUME_MODE;
  }
  if (isObject(volume.downwardAPI)) defaultDownwardItems(volume.downwardAPI.items);
  if (isObject(volume.projected)) {
    for (const [, source] of objectsOf(volume.projected.sources)) {
      const token = source.serviceAccountToken;
      if (isObject(token) && (token.expirationSeconds === undefined || token.expirationSeconds === null)) {
        token.expirationSeconds = 3600;
      }
      if (isObject(source.downwardAPI)) defaultDownwardItems(source.downwardAPI.items);
    }
  }
  if (isObject(volume.hostPath) && (volume.hostPath.type === undefined || volume.hostPath.type === null)) {
    volume.hostPath.type = '';
  }
  const claimSpec = isObject(volume.ephemeral) && isObject(volume.ephemeral.volumeClaimTemplate)
    ? volume.ephemeral.volumeClaimTemplate.spec
    : undefined;
  if (isObject(claimSpec) && !claimSpec.volumeMode) claimSpec.volumeMode = 'Filesystem';
}

function defaultDownwardItems(items: unknown): void {
  for (const [, item] of objectsOf(items)) {
    if (isObject(item.fieldRef) && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  }
}

/**
 * A Pod's defaults: those of its spec, plus what upstream gives Pods only — requests copied
 * from limits where unset, `enableServiceLinks: true`, host ports equal to container ports
 * under `hostNetwork` — and what upstream's admission plugins add on create:
 * `serviceAccountName`/`serviceAccount: default`, `priority: 0` with
 * `preemptionPolicy: PreemptLowerPriority` (when no priority class is named), and 300-second
 * tolerations of the `not-ready` and `unreachable` NoExecute taints.
 *
 * Running these on update too is harmless: a stored Pod already carries every one of them, and
 * re-adding what a full replacement left out keeps the update from tripping the Pod's
 * immutability rule.
 */
export function defaultPod(pod: KubeObject): void {
  const spec = ensureObject(pod, 'spec');
  defaultPodSpec(spec);
  for (const list of ['containers', 'initContainers']) {
    for (const [, c] of objectsOf(spec[list])) {
      const resources = ensureObject(c, 'resources');
      if (!isObject(resources.limits)) continue;
      const requests = ensureObject(resources, 'requests');
      for (const [name, value] of Object.entries(resources.limits)) {
        if (!Object.hasOwn(requests, name)) requests[name] = value;
      }
    }
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    for (const list of ['containers', 'initContainers']) {
      for (const [, c] of objectsOf(spec[list])) {
        for (const [, port] of objectsOf(c.ports)) {
          if (!port.hostPort) port.hostPort = port.containerPort;
        }
      }
    }
  }

  // The deprecated `serviceAccount` field is an alias read when the real one is empty.
  const account = str(spec.serviceAccountName) || str(spec.serviceAccount) || DEFAULT_SERVICE_ACCOUNT;
  spec.serviceAccountName = account;
  spec.serviceAccount = account;

  if (!spec.priorityClassName) {
    if (spec.priority === undefined || spec.priority === null) spec.priority = 0;
    if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority';
  }

  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const taint of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const tolerated = objectsOf(tolerations).some(([, t]) => tolerates(t, taint));
    if (!tolerated) {
      tolerations.push({ key: taint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  spec.tolerations = tolerations;
}

/** Whether a toleration already covers a NoExecute taint with the given key (any value). */
function tolerates(t: JsonObject, taintKey: string): boolean {
  const effectMatches = !t.effect || t.effect === 'NoExecute';
  if (!effectMatches) return false;
  if (!t.key) return t.operator === 'Exists';
  return t.key === taintKey;
}

// ---------------------------------------------------------------------------------------------
// Validation

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const ENV_SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'];
const MAX_INT32 = 2147483647;

/** What distinguishes a Pod's own spec from a template's. */
export interface PodSpecOptions {
  /** A Pod (stricter: images without surrounding whitespace). False for templates. */
  isPod: boolean;
}

/**
 * Validates a pod spec at `path` (`spec` for Pods, `spec.template.spec` for workloads): at least
 * one container; container names unique RFC 1123 labels; images present; enums for restart,
 * DNS and pull policies; ports, env, resources, probes, volume mounts; volumes with unique names
 * and one source each; node selector, tolerations and the remaining scalar fields.
 */
export function validatePodSpec(spec: unknown, path: string, options: PodSpecOptions): FieldError[] {
  if (!isObject(spec)) return [required(path)];
  const errors: FieldError[] = [];

  const volumeNames = new Set<string>();
  errors.push(...validateVolumes(spec.volumes, at(path, 'volumes'), volumeNames));

  const containers = objectsOf(spec.containers);
  if (containers.length === 0) {
    errors.push(required(at(path, 'containers')));
  }
  const names: [string, string][] = [];
  for (const [i, c] of containers) {
    const cpath = at(at(path, 'containers'), i);
    errors.push(...validateContainer(c, cpath, volumeNames, options));
    names.push([str(c.name), at(cpath, 'name')]);
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      errors.push(forbidden(at(cpath, 'restartPolicy'), 'may not be set for non-init containers'));
    }
  }
  for (const [i, c] of objectsOf(spec.initContainers)) {
    const cpath = at(at(path, 'initContainers'), i);
    errors.push(...validateContainer(c, cpath, volumeNames, options));
    names.push([str(c.name), at(cpath, 'name')]);
    const sidecar = c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined && c.restartPolicy !== null && !sidecar) {
      errors.push(notSupported(at(cpath, 'restartPolicy'), c.restartPolicy, ['Always']));
    }
    if (!sidecar) {
      for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[field] !== undefined && c[field] !== null) {
          errors.push(forbidden(at(cpath, field), 'may not be set for init containers without restartPolicy=Always'));
        }
      }
    }
  }
  // Names are unique across regular and init containers; the later one is reported.
  errors.push(...duplicates(names.filter(([n]) => n !== '')));
  errors.push(...hostPortConflicts(spec, path));

  errors.push(...enumField(spec.restartPolicy, at(path, 'restartPolicy'), RESTART_POLICIES));
  errors.push(...enumField(spec.dnsPolicy, at(path, 'dnsPolicy'), DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !isObject(spec.dnsConfig)) {
    errors.push(required(at(path, 'dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  errors.push(...validateLabels(spec.nodeSelector, at(path, 'nodeSelector')));
  for (const field of ['serviceAccountName', 'nodeName']) {
    const value = spec[field];
    if (typeof value === 'string' && value !== '') {
      for (const m of dns1123SubdomainErrors(value)) errors.push(invalid(at(path, field), value, m));
    }
  }
  for (const field of ['hostname', 'subdomain']) {
    const value = spec[field];
    if (typeof value === 'string' && value !== '') {
      for (const m of dns1123LabelErrors(value)) errors.push(invalid(at(path, field), value, m));
    }
  }
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    if (typeof deadline !== 'number' || !Number.isInteger(deadline) || deadline < 1 || deadline > MAX_INT32) {
      errors.push(invalid(at(path, 'activeDeadlineSeconds'), deadline, inclusiveRange(1, MAX_INT32)));
    }
  }
  errors.push(...validateTolerations(spec.tolerations, at(path, 'tolerations')));
  return errors;
}

/**
 * A pod template (`spec.template` of workloads): labels and annotations of its metadata, its pod
 * spec, and no ephemeral containers.
 */
export function validatePodTemplate(template: unknown, path: string): FieldError[] {
  if (!isObject(template)) return [required(path)];
  const meta = isObject(template.metadata) ? template.metadata : {};
  const errors = [
    ...validateLabels(meta.labels, at(at(path, 'metadata'), 'labels')),
    ...validateAnnotations(meta.annotations, at(at(path, 'metadata'), 'annotations')),
    ...validatePodSpec(template.spec, at(path, 'spec'), { isPod: false }),
  ];
  if (isObject(template.spec) && arrayOf(template.spec.ephemeralContainers).length > 0) {
    errors.push(forbidden(at(at(path, 'spec'), 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errors;
}

function enumField(value: unknown, path: string, supported: string[]): FieldError[] {
  if (value === undefined || value === null || value === '') return [required(path)];
  return supported.includes(value as string) ? [] : [notSupported(path, value, supported)];
}

function validateContainer(c: JsonObject, path: string, volumeNames: Set<string>, options: PodSpecOptions): FieldError[] {
  const errors: FieldError[] = [];
  const name = c.name;
  if (name === undefined || name === null || name === '') errors.push(required(at(path, 'name')));
  else for (const m of dns1123LabelErrors(str(name))) errors.push(invalid(at(path, 'name'), name, m));

  const image = c.image;
  if (image === undefined || image === null || image === '') {
    errors.push(required(at(path, 'image')));
  } else if (options.isPod && str(image) !== str(image).trim()) {
    errors.push(invalid(at(path, 'image'), image, 'must not have leading or trailing whitespace'));
  }
  errors.push(...enumField(c.terminationMessagePolicy, at(path, 'terminationMessagePolicy'), TERMINATION_MESSAGE_POLICIES));
  errors.push(...validateContainerPorts(c.ports, at(path, 'ports')));
  errors.push(...validateEnv(c.env, at(path, 'env')));
  errors.push(...validateEnvFrom(c.envFrom, at(path, 'envFrom')));
  errors.push(...enumField(c.imagePullPolicy, at(path, 'imagePullPolicy'), PULL_POLICIES));
  errors.push(...validateResources(c.resources, at(path, 'resources')));
  errors.push(...validateVolumeMounts(c.volumeMounts, at(path, 'volumeMounts'), volumeNames));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    errors.push(...validateProbe(c[probe], at(path, probe)));
  }
  for (const probe of ['livenessProbe', 'startupProbe']) {
    const p = c[probe];
    if (isObject(p) && p.successThreshold !== undefined && p.successThreshold !== 1) {
      errors.push(invalid(at(at(path, probe), 'successThreshold'), p.successThreshold, 'must be 1'));
    }
  }
  return errors;
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  for (const [i, port] of objectsOf(ports)) {
    const p = at(path, i);
    const name = str(port.name);
    if (name !== '') {
      const messages = portNameErrors(name);
      for (const m of messages) errors.push(invalid(at(p, 'name'), name, m));
      if (messages.length === 0 && names.has(name)) errors.push(duplicate(at(p, 'name'), name));
      names.add(name);
    }
    if (port.containerPort === undefined || port.containerPort === null || port.containerPort === 0) {
      errors.push(required(at(p, 'containerPort')));
    } else {
      for (const m of portNumErrors(port.containerPort as number)) errors.push(invalid(at(p, 'containerPort'), port.containerPort, m));
    }
    if (port.hostPort) {
      for (const m of portNumErrors(port.hostPort as number)) errors.push(invalid(at(p, 'hostPort'), port.hostPort, m));
    }
    errors.push(...enumField(port.protocol, at(p, 'protocol'), [...PORT_PROTOCOLS]));
  }
  return errors;
}

/**
 * Host ports: unique per IP and protocol across all containers (`Duplicate value: "/TCP/80"`),
 * and equal to the container port under `hostNetwork`.
 */
function hostPortConflicts(spec: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    for (const [i, c] of objectsOf(spec[list])) {
      for (const [j, port] of objectsOf(c.ports)) {
        const p = at(at(at(at(path, list), i), 'ports'), j);
        if (spec.hostNetwork === true && port.hostPort && port.hostPort !== port.containerPort) {
          errors.push(invalid(at(p, 'hostPort'), port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
        }
        if (!port.hostPort) continue;
        const id = `${str(port.hostIP)}/${str(port.protocol)}/${String(port.hostPort)}`;
        if (seen.has(id)) errors.push(duplicate(at(p, 'hostPort'), id));
        seen.add(id);
      }
    }
  }
  return errors;
}

/**
 * Env var names: any printable ASCII but `=` (upstream's relaxed rule, on by default since
 * 1.32); one value source at most.
 */
function validateEnv(env: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [i, e] of objectsOf(env)) {
    const p = at(path, i);
    const name = str(e.name);
    if (name === '') errors.push(required(at(p, 'name')));
    else if (!/^[ -<>-~]+$/.test(name)) {
      errors.push(invalid(at(p, 'name'), name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    }
    if (e.valueFrom === undefined || e.valueFrom === null) continue;
    const from = isObject(e.valueFrom) ? e.valueFrom : {};
    const vp = at(p, 'valueFrom');
    const sources = ENV_SOURCES.filter((s) => from[s] !== undefined && from[s] !== null);
    if (sources.length === 0) {
      errors.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (sources.length > 1) {
      errors.push(invalid(vp, '', 'may not have more than one field specified at a time'));
    }
    if (e.value !== undefined && e.value !== null && e.value !== '') {
      errors.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    }
    for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
      const r = from[ref];
      if (!isObject(r)) continue;
      const k = str(r.key);
      if (k === '') errors.push(required(at(at(vp, ref), 'key')));
      else for (const m of configKeyErrors(k)) errors.push(invalid(at(at(vp, ref), 'key'), k, m));
    }
    if (isObject(from.fieldRef) && !from.fieldRef.fieldPath) errors.push(required(at(at(vp, 'fieldRef'), 'fieldPath')));
    if (isObject(from.resourceFieldRef) && !from.resourceFieldRef.resource) {
      errors.push(required(at(at(vp, 'resourceFieldRef'), 'resource')));
    }
  }
  return errors;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [i, e] of objectsOf(envFrom)) {
    const p = at(path, i);
    const refs = ['configMapRef', 'secretRef'].filter((r) => isObject(e[r]));
    if (refs.length === 0) errors.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (refs.length > 1) errors.push(invalid(p, '', 'may not have more than one field specified at a time'));
    for (const r of refs) {
      const name = str((e[r] as JsonObject).name);
      if (name === '') errors.push(required(at(at(p, r), 'name')));
    }
  }
  return errors;
}

/** A quantity's numeric value, whether sent as a string or a JSON number. */
export function quantityValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return parseQuantity(value);
  return undefined;
}

/** Whether a resource name is Kubernetes' own (no domain, or a `kubernetes.io` one). */
function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Upstream lets requests be below limits only for native, non-hugepage resources. */
function overcommitAllowed(name: string): boolean {
  return isNativeResource(name) && !name.startsWith('hugepages-');
}

function isStandardContainerResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
}

function validateResourceName(name: string, path: string): FieldError[] {
  const errors = qualifiedNameErrors(name).map((m) => invalid(path, name, m));
  if (!name.includes('/')) {
    if (!isStandardContainerResource(name)) errors.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && name.startsWith('requests.')) {
    errors.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errors;
}

/** A quantity value: parseable and non-negative; whole numbers for extended resources. */
export function validateQuantity(name: string, value: unknown, path: string): FieldError[] {
  const messages = quantityErrors(value);
  if (messages.length > 0) return messages.map((m) => invalid(path, value, m));
  const n = quantityValue(value)!;
  if (n < 0) return [invalid(path, value, 'must be greater than or equal to 0')];
  if (!isNativeResource(name) && !Number.isInteger(n)) return [invalid(path, value, 'must be an integer')];
  return [];
}

/**
 * `resources.limits` and `resources.requests`: names, quantities, and each request at most its
 * limit (`must be less than or equal to cpu limit of 1`) — equal for resources that cannot be
 * overcommitted, whose limit is then required.
 */
function validateResources(resources: unknown, path: string): FieldError[] {
  if (!isObject(resources)) return [];
  const errors: FieldError[] = [];
  const limPath = at(path, 'limits');
  const reqPath = at(path, 'requests');
  const limits = isObject(resources.limits) ? resources.limits : {};
  const requests = isObject(resources.requests) ? resources.requests : {};
  for (const [name, value] of Object.entries(limits)) {
    errors.push(...validateResourceName(name, key(limPath, name)));
    errors.push(...validateQuantity(name, value, key(limPath, name)));
  }
  for (const [name, value] of Object.entries(requests)) {
    errors.push(...validateResourceName(name, key(reqPath, name)));
    errors.push(...validateQuantity(name, value, key(reqPath, name)));
    const request = quantityValue(value);
    if (!Object.hasOwn(limits, name)) {
      if (!overcommitAllowed(name)) errors.push(required(limPath, 'Limit must be set for non overcommitable resources'));
      continue;
    }
    const limit = quantityValue(limits[name]);
    if (request === undefined || limit === undefined) continue;
    const shown = typeof value === 'string' ? value : String(value);
    const limitShown = typeof limits[name] === 'string' ? (limits[name] as string) : String(limits[name]);
    if (!overcommitAllowed(name) && request !== limit) {
      errors.push(invalid(reqPath, shown, `must be equal to ${name} limit of ${limitShown}`));
    } else if (request > limit) {
      errors.push(invalid(reqPath, shown, `must be less than or equal to ${name} limit of ${limitShown}`));
    }
  }
  return errors;
}

function validateVolumeMounts(mounts: unknown, path: string, volumeNames: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  const paths = new Set<string>();
  for (const [i, m] of objectsOf(mounts)) {
    const p = at(path, i);
    const name = str(m.name);
    if (name === '') errors.push(required(at(p, 'name')));
    else if (!volumeNames.has(name)) errors.push(notFound(at(p, 'name'), name));
    const mountPath = str(m.mountPath);
    if (mountPath === '') errors.push(required(at(p, 'mountPath')));
    else if (paths.has(mountPath)) errors.push(invalid(at(p, 'mountPath'), mountPath, 'must be unique'));
    paths.add(mountPath);
  }
  return errors;
}

function validateProbe(probe: unknown, path: string): FieldError[] {
  if (probe === undefined || probe === null) return [];
  if (!isObject(probe)) return [invalid(path, probe, 'must be an object')];
  const errors: FieldError[] = [];
  const handlers = PROBE_HANDLERS.filter((h) => probe[h] !== undefined && probe[h] !== null);
  if (handlers.length === 0) errors.push(required(path, 'must specify a handler type'));
  for (const extra of handlers.slice(1)) errors.push(forbidden(at(path, extra), 'may not specify more than 1 handler type'));
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errors.push(...nonNegative(probe[field], at(path, field)));
  }
  for (const h of ['httpGet', 'tcpSocket']) {
    const action = probe[h];
    if (!isObject(action)) continue;
    errors.push(...portNumOrNameErrors(action.port, at(at(path, h), 'port')));
  }
  if (isObject(probe.httpGet) && !['HTTP', 'HTTPS'].includes(str(probe.httpGet.scheme))) {
    errors.push(notSupported(at(at(path, 'httpGet'), 'scheme'), probe.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (isObject(probe.exec) && arrayOf(probe.exec.command).length === 0) {
    errors.push(required(at(at(path, 'exec'), 'command')));
  }
  return errors;
}

/** Volume source fields, and the required name each one's reference needs. */
const SOURCE_REQUIRED_FIELD: Readonly<Record<string, string>> = {
  configMap: 'name',
  secret: 'secretName',
  persistentVolumeClaim: 'claimName',
  hostPath: 'path',
  nfs: 'server',
};

function validateVolumes(volumes: unknown, path: string, names: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [i, v] of objectsOf(volumes)) {
    const p = at(path, i);
    const name = str(v.name);
    if (name === '') errors.push(required(at(p, 'name')));
    else for (const m of dns1123LabelErrors(name)) errors.push(invalid(at(p, 'name'), name, m));
    if (name !== '' && names.has(name)) errors.push(duplicate(at(p, 'name'), name));
    names.add(name);
    const sources = Object.keys(v).filter((k) => k !== 'name' && v[k] !== undefined && v[k] !== null);
    if (sources.length === 0) errors.push(required(p, 'must specify a volume type'));
    for (const extra of sources.slice(1)) errors.push(forbidden(at(p, extra), 'may not specify more than 1 volume type'));
    for (const source of sources) {
      const field = SOURCE_REQUIRED_FIELD[source];
      const s = v[source];
      if (field !== undefined && isObject(s) && str(s[field]) === '') errors.push(required(at(at(p, source), field)));
    }
  }
  return errors;
}

/** Upstream's `ValidateTolerations`. */
function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [i, t] of objectsOf(tolerations)) {
    const p = at(path, i);
    const k = str(t.key);
    if (k !== '') for (const m of qualifiedNameErrors(k)) errors.push(invalid(at(p, 'key'), k, m));
    if (k === '' && t.operator !== 'Exists') {
      errors.push(invalid(at(p, 'operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errors.push(invalid(at(p, 'effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    const operator = t.operator ?? '';
    if (operator === '' || operator === 'Equal') {
      for (const m of labelValueErrors(str(t.value))) errors.push(invalid(at(p, 'operator'), t.value, m));
    } else if (operator === 'Exists') {
      if (str(t.value) !== '') errors.push(invalid(at(p, 'operator'), t.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errors.push(notSupported(at(p, 'operator'), operator, ['Equal', 'Exists']));
    }
    if (t.effect !== undefined && t.effect !== null && t.effect !== '' && !TAINT_EFFECTS.includes(t.effect as string)) {
      errors.push(notSupported(at(p, 'effect'), t.effect, TAINT_EFFECTS));
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Pod updates

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * What a Pod update may change in `spec`, as upstream's `ValidatePodUpdate`: container and
 * init-container images; `activeDeadlineSeconds` (set, or lowered, never raised or removed);
 * tolerations (only added to); `terminationGracePeriodSeconds` from negative to 1; scheduling
 * gates (only removed). Ephemeral containers change through their own subresource and are not
 * compared. Anything else is `spec: Forbidden: pod updates may not change fields other than …`,
 * followed by the paths that differ.
 */
export function validatePodSpecUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const newSpec = isObject(next.spec) ? next.spec : {};
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const errors: FieldError[] = [];

  const newDeadline = newSpec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (typeof newDeadline === 'number') {
    if (typeof oldDeadline === 'number' && oldDeadline < newDeadline) {
      errors.push(invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value'));
    }
  } else if (typeof oldDeadline === 'number') {
    errors.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }

  const oldTolerations = objectsOf(oldSpec.tolerations).map(([, t]) => t);
  const newTolerations = objectsOf(newSpec.tolerations).map(([, t]) => t);
  oldTolerations.forEach((t, i) => {
    const kept = newTolerations.some((n) => deepEqual(withoutSeconds(n), withoutSeconds(t)));
    if (!kept) errors.push(forbidden(`spec.tolerations[${i}]`, 'existing toleration can not be modified except its tolerationSeconds'));
  });

  const oldGates = new Set(objectsOf(oldSpec.schedulingGates).map(([, g]) => str(g.name)));
  for (const [, gate] of objectsOf(newSpec.schedulingGates)) {
    if (!oldGates.has(str(gate.name))) {
      errors.push(forbidden('spec.schedulingGates', `only deletion is allowed, but found new scheduling gate '${str(gate.name)}'`));
    }
  }

  // Compare what is left once every field allowed to change is made equal to the old value.
  const munged = clone(newSpec);
  for (const list of ['containers', 'initContainers']) {
    const newList = arrayOf(munged[list]);
    const oldList = arrayOf(oldSpec[list]);
    if (newList.length !== oldList.length) continue;
    newList.forEach((c, i) => {
      const o = oldList[i];
      if (isObject(c) && isObject(o)) c.image = o.image;
    });
  }
  for (const field of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates', 'ephemeralContainers']) {
    munged[field] = oldSpec[field];
  }
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (!deepEqual(munged, oldSpec)) {
    const changed = differingPaths(oldSpec, munged, 'spec').slice(0, 10);
    errors.push(forbidden('spec', `${POD_UPDATE_FORBIDDEN}\n  changed: ${changed.join(', ')}`));
  }
  return errors;
}

function withoutSeconds(t: JsonObject): JsonObject {
  const { tolerationSeconds: _ignored, ...rest } = t;
  return rest;
}

/** The shallowest paths at which two JSON values differ, for the update error's summary. */
function differingPaths(a: unknown, b: unknown, path: string): string[] {
  if (deepEqual(a, b)) return [];
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingPaths(a[k], b[k], at(path, k)));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((item, i) => differingPaths(item, b[i], at(path, i)));
  }
  return [path];
}

// ---------------------------------------------------------------------------------------------
// QoS

/**
 * A pod's QoS class, as upstream's `GetPodQOS`: `BestEffort` without any CPU or memory request
 * or limit; `Guaranteed` when every container (init containers included) limits both CPU and
 * memory and all requests equal their limits; `Burstable` otherwise. Zero quantities count as
 * unset.
 */
export function podQOSClass(pod: KubeObject): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const containers = [...objectsOf(spec.initContainers), ...objectsOf(spec.containers)].map(([, c]) => c);
  for (const c of containers) {
    const resources = isObject(c.resources) ? c.resources : {};
    for (const [name, value] of Object.entries(isObject(resources.requests) ? resources.requests : {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = quantityValue(value) ?? 0;
      if (q > 0) requests.set(name, (requests.get(name) ?? 0) + q);
    }
    const limited = new Set<string>();
    for (const [name, value] of Object.entries(isObject(resources.limits) ? resources.limits : {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = quantityValue(value) ?? 0;
      if (q > 0) {
        limited.add(name);
        limits.set(name, (limits.get(name) ?? 0) + q);
      }
    }
    if (!limited.has('cpu') || !limited.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, request] of requests) {
      if (limits.get(name) !== request) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
