/**
 * The messages of `k8s.io/api/authentication/v1` (protobuf package `k8s.io.api.authentication.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/authentication/v1`, referenced from other tables as `authenticationv1.Name`. */
export const authenticationV1: MessageTable = {
  BoundObjectReference: 'kind=1:string apiVersion=2:string name=3:string uid=4:string',
  SelfSubjectReview: 'metadata=1:metav1.ObjectMeta status=2:SelfSubjectReviewStatus',
  SelfSubjectReviewStatus: 'userInfo=1:UserInfo',
  TokenRequest: 'metadata=1:metav1.ObjectMeta spec=2:!TokenRequestSpec status=3:TokenRequestStatus',
  TokenRequestSpec: 'audiences=1:[]string expirationSeconds=4:*int64 boundObjectRef=3:*BoundObjectReference',
  TokenRequestStatus: 'token=1:!string expirationTimestamp=2:Time',
  UserInfo: 'username=1:string uid=2:string groups=3:[]string extra=4:{StringList}',
};
