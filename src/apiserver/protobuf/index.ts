/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies, which kubectl 1.32+ and
 * client-go send for built-in kinds. The result is the object a JSON body would have carried, so
 * the rest of the API server never sees protobuf. Responses stay JSON.
 */
export { decodeProtobufBody, PROTOBUF_MAGIC, type DecodedProtobufBody } from './body.ts';
export { ProtobufError, type ProtobufErrorCode } from './errors.ts';
export { protobufKinds } from './kinds.ts';
