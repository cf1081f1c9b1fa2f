/** The ServiceAccounts controller: a `default` ServiceAccount in every active namespace. */
export { ServiceAccountsController, serviceAccountsControllerDescriptor, type ServiceAccountsControllerOptions } from './serviceaccounts-controller.ts';
