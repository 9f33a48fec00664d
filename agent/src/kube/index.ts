export * from './kubeconfig.js';
export { createKubeConfig } from './client.js';
