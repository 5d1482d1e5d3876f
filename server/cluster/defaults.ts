/**
 * Names the command line needs while declaring its options, in a module that loads nothing else
 * (kind.ts pulls in the YAML library and the docker checks).
 */

/** The kind cluster kubelab creates and looks for. */
export const DEFAULT_CLUSTER_NAME = 'kubelab';
