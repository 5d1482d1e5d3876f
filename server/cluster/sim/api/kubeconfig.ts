/**
 * A kubeconfig for the simulated cluster's API: one cluster (its URL carries the learner's token,
 * see credentialsOf in server.ts), one user with the same token, one context.
 */
import { stringify } from 'yaml';

export function simKubeconfig(opts: {
  server: string;
  token: string;
  name?: string;
  namespace?: string;
}): string {
  const name = opts.name ?? 'kubelab-sim';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain HTTP unless TLS verification is declared off; there is no TLS to verify.
    clusters: [{ name, cluster: { server: opts.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token: opts.token } }],
    contexts: [
      {
        name,
        context: { cluster: name, user: name, ...(opts.namespace ? { namespace: opts.namespace } : {}) },
      },
    ],
    'current-context': name,
    preferences: {},
  });
}
