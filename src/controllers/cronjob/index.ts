/** The CronJob controller and its cron schedule evaluation. */
import type { ControllerDescriptor } from '../manager.ts';
import { CronJobController } from './cronjob-controller.ts';

export { CronJobController, SCHEDULED_TIMESTAMP_ANNOTATION, type CronJobControllerOptions } from './cronjob-controller.ts';

/** Creates Jobs on a cron schedule (`cronjob-controller`). */
export const cronJobControllerDescriptor: ControllerDescriptor = {
  name: 'cronjob-controller',
  create: (context) => new CronJobController(context),
};
