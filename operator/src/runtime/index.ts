// Public surface of the controller runtime. Controllers import from here.
export * from './api-errors.js';
export * from './clock.js';
export * from './conditions.js';
export * from './controller.js';
export * from './errors.js';
export * from './events.js';
export * from './finalizers.js';
export * from './informer.js';
export * from './keys.js';
export * from './leader-election.js';
export * from './manager.js';
export * from './owner-refs.js';
export * from './status.js';
export * from './work-queue.js';
export * from '../server/metrics.js';
export * from '../server/http.js';
export * from '../log.js';
