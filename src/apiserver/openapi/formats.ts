/**
 * Facts about field formats that `kubernetes-types` does not carry. Its interfaces type every
 * number as `number` and every byte string as `string`; upstream's schemas say `integer` with
 * format `int32` or `int64`, `number` with format `double`, and `string` with format `byte`.
 *
 * The generator's rule: a `number` field is an `int32` integer unless this table says otherwise.
 * Entries are `Interface.field` and hold in every module that declares such an interface (the
 * same name never means different formats across group-versions). For a list or a map the format
 * applies to the elements. Generation fails when an entry names a field that does not exist.
 */

/** Integer fields that upstream declares `int64` (Go `int64`, `*int64` or `[]int64`). */
export const INT64_FIELDS: readonly string[] = [
  // meta/v1
  'ObjectMeta.generation',
  'ObjectMeta.deletionGracePeriodSeconds',
  'ListMeta.remainingItemCount',
  'DeleteOptions.gracePeriodSeconds',
  'Condition.observedGeneration',
  // core/v1
  'ContainerImage.sizeBytes',
  'PodSecurityContext.fsGroup',
  'PodSecurityContext.runAsGroup',
  'PodSecurityContext.runAsUser',
  'PodSecurityContext.supplementalGroups',
  'SecurityContext.runAsGroup',
  'SecurityContext.runAsUser',
  'PodSpec.activeDeadlineSeconds',
  'PodSpec.terminationGracePeriodSeconds',
  'Probe.terminationGracePeriodSeconds',
  'ReplicationControllerStatus.observedGeneration',
  'ServiceAccountTokenProjection.expirationSeconds',
  'SleepAction.seconds',
  'Toleration.tolerationSeconds',
  // apps/v1
  'ControllerRevision.revision',
  'DaemonSetStatus.observedGeneration',
  'DeploymentStatus.observedGeneration',
  'ReplicaSetStatus.observedGeneration',
  'StatefulSetStatus.observedGeneration',
  // batch/v1
  'CronJobSpec.startingDeadlineSeconds',
  'JobSpec.activeDeadlineSeconds',
  // autoscaling/v1 and v2
  'HorizontalPodAutoscalerStatus.observedGeneration',
  // policy/v1
  'PodDisruptionBudgetStatus.observedGeneration',
  // authentication/v1, storage/v1
  'TokenRequestSpec.expirationSeconds',
  'TokenRequest.expirationSeconds',
  // admissionregistration, apiserverinternal
  'ValidatingAdmissionPolicyStatus.observedGeneration',
  'StorageVersionCondition.observedGeneration',
  // apiextensions/v1
  'JSONSchemaProps.maxItems',
  'JSONSchemaProps.maxLength',
  'JSONSchemaProps.maxProperties',
  'JSONSchemaProps.minItems',
  'JSONSchemaProps.minLength',
  'JSONSchemaProps.minProperties',
  // resource/v1alpha2
  'NamedResourcesAttribute.int',
  'NamedResourcesIntSlice.ints',
];

/** The only floating-point fields of the served API (`number`, format `double`). */
export const DOUBLE_FIELDS: readonly string[] = ['JSONSchemaProps.maximum', 'JSONSchemaProps.minimum', 'JSONSchemaProps.multipleOf'];

/** String fields (or map values) holding base64-encoded bytes in JSON (Go `[]byte`). */
export const BYTE_FIELDS: readonly string[] = [
  'Secret.data',
  'ConfigMap.binaryData',
  'CertificateSigningRequestSpec.request',
  'CertificateSigningRequestStatus.certificate',
  'WebhookClientConfig.caBundle',
];

/**
 * Interfaces without fields that stand for any JSON value rather than an object (upstream
 * publishes them without a `type`). Other field-less interfaces (`RawExtension`, `FieldsV1`)
 * are objects.
 */
export const UNTYPED_INTERFACES: readonly string[] = ['JSON'];
