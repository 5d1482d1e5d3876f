export {
  SimulatedCluster,
  type SimulatedClusterOptions,
  type SimulatedFaults,
  type ProbeExplanation,
} from './cluster.js';
export { SharedPlanes } from './shared-planes.js';
export { validateKubeObject } from './validate.js';
export { listenersOf, type Listener, type Speaks } from './listeners.js';
export { searchCandidates, searchDomains } from './dns.js';
export { INCONSISTENT_EXIT_CODE } from './exec.js';
export { KUBE_DNS_IP, KUBERNETES_SERVICE_IP, NODES, COREDNS_IMAGE } from './objects.js';
