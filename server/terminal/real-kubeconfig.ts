/**
 * The kubeconfig the terminal gets on a real cluster (only when kubelab serves on loopback for one
 * person, the owner of that kubeconfig): exactly the one context kubelab grades, with its cluster
 * and user, so the terminal's kubectl cannot switch to another (and --context is refused anyway).
 */
import { execa } from 'execa';

export interface RealClusterTarget {
  context?: string;
  kubeconfig?: string;
  env: NodeJS.ProcessEnv;
}

export async function realClusterKubeconfig(target: RealClusterTarget): Promise<string> {
  const context = target.context ?? (target.env.KUBELAB_CONTEXT || undefined);
  if (context === undefined && target.kubeconfig === undefined) {
    // The kind cluster kubelab made (the kubeconfig kind itself keeps for it).
    const name = target.env.KUBELAB_CLUSTER || 'kubelab';
    const r = await execa('kind', ['get', 'kubeconfig', '--name', name], { env: target.env, reject: false });
    if (r.exitCode === 0) return r.stdout;
    throw new Error(`kind get kubeconfig --name ${name} failed: ${r.stderr}`);
  }
  const { loadKubeConfig } = await import('../cluster/kube.js');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { kc, context: chosen } = loadKubeConfig({
    ...(context ? { context } : {}),
    ...(target.kubeconfig ? { kubeconfig: target.kubeconfig } : {}),
    env: target.env,
  });
  const ctx = kc.getContextObject(chosen);
  const cluster = ctx ? kc.getCluster(ctx.cluster) : null;
  const user = ctx ? kc.getUser(ctx.user) : null;
  if (!ctx || !cluster || !user)
    throw new Error(`context ${chosen} names a cluster or user that is not there`);
  const one = new KubeConfig();
  one.loadFromOptions({ clusters: [cluster], users: [user], contexts: [ctx], currentContext: ctx.name });
  return one.exportConfig();
}
