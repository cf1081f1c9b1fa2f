/** The Job controller and the TTL-after-finished controller. */
import type { ControllerDescriptor } from '../manager.ts';
import { JobController } from './job-controller.ts';
import { TtlAfterFinishedController } from './ttl-after-finished-controller.ts';

export { systemClock, type Clock } from './clock.ts';
export { JobController, type JobControllerOptions } from './job-controller.ts';
export { TtlAfterFinishedController, type TtlAfterFinishedControllerOptions } from './ttl-after-finished-controller.ts';
export { COMPLETION_INDEX, TRACKING_FINALIZER } from './job-util.ts';

/** Runs Jobs' pods to completion (`job-controller`). */
export const jobControllerDescriptor: ControllerDescriptor = {
  name: 'job-controller',
  create: (context) => new JobController(context),
};

/** Deletes finished Jobs after `ttlSecondsAfterFinished` (`ttl-after-finished-controller`). */
export const ttlAfterFinishedControllerDescriptor: ControllerDescriptor = {
  name: 'ttl-after-finished-controller',
  create: (context) => new TtlAfterFinishedController(context),
};
