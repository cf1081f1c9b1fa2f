/**
 * The controllers that publish Services' pods: Endpoints and EndpointSlices, sharing one
 * pod → address logic (`pod-endpoints.ts`).
 */
export { EndpointsController, endpointsControllerDescriptor, maxEndpointsCapacity } from './endpoints-controller.ts';
export {
  EndpointSliceController,
  endpointSliceControllerDescriptor,
  managedByLabel,
  managedByValue,
  serviceNameLabel,
  type EndpointSliceControllerOptions,
} from './endpointslice-controller.ts';
