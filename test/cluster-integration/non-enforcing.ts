/**
 * A kind cluster that deliberately does NOT enforce NetworkPolicy, for the opt-in suite: one node,
 * kind's own CNI (kindnet, which enforces policy since kind 0.24) disabled, and in its place a plain
 * CNI configuration with the ptp and host-local plugins every kind node image ships. Pods get
 * addresses and talk to each other; no component reads NetworkPolicy. Nothing is downloaded.
 */
import { KindCli, nodeImageFor } from '../../server/cluster/kind.js';
import type { ProvisionedCluster } from '../../server/cluster/provision.js';
import { describeFailure, succeeded, type Runner } from '../../server/cluster/runner.js';

export function plainCniConfig(podCidr: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'kubelab-no-policy',
    plugins: [
      {
        type: 'ptp',
        ipMasq: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

export async function createNonEnforcingCluster(runner: Runner, name: string): Promise<void> {
  const kind = new KindCli(runner);
  if ((await kind.clusters()).includes(name)) return;
  const version = (await kind.version()) ?? 'unknown';
  await kind.create({ name, workers: 0, nodeImage: nodeImageFor(version).image }, () => {});
}

/** Writes the plain CNI config into the node, then waits for the node and kube-system to be Ready. */
export async function installPlainCni(
  runner: Runner,
  name: string,
  cluster: ProvisionedCluster,
  timeoutMs: number,
): Promise<void> {
  const [node] = await cluster.listObjects('v1', 'Node');
  const podCidr = (node?.spec as { podCIDR?: string } | undefined)?.podCIDR;
  if (!node || !podCidr) throw new Error(`the node of kind cluster ${name} has no podCIDR`);
  const write = await runner.run(
    [
      'docker',
      'exec',
      '-i',
      `${name}-control-plane`,
      'sh',
      '-c',
      'cat > /etc/cni/net.d/10-kubelab-no-policy.conflist',
    ],
    { stdin: plainCniConfig(podCidr), timeoutMs: 60_000 },
  );
  if (!succeeded(write)) throw new Error(`writing the CNI config failed: ${describeFailure(write)}`);
  const ready = await cluster.waitReady(['kube-system'], { timeoutMs });
  if (!ready.ready) throw new Error(`kube-system did not become Ready: ${ready.notReady.join('; ')}`);
}
