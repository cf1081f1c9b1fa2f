/**
 * The controllers `skiff server` runs, in start order. Add a controller by adding its
 * descriptor here.
 */
import type { ControllerDescriptor } from './manager.ts';

/** Every controller of the controller manager. */
export const allControllers: ControllerDescriptor[] = [];
