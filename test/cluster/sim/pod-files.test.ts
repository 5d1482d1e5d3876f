/** hostname, env and cat /etc/resolv.conf in a simulated pod, as `kubectl exec` (and the terminal's pod shell) get them. */
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from '../../../server/cluster/sim/index.js';
import { npBackendScenario, podRef } from './fixtures.js';

async function cluster(): Promise<SimulatedCluster> {
  const c = new SimulatedCluster();
  await c.apply(npBackendScenario());
  return c;
}

const result = (run: ReturnType<SimulatedCluster['execTyped']>) => {
  if ('notSimulated' in run) throw new Error(run.notSimulated);
  return run.result;
};

describe('what a pod knows about itself', () => {
  it('hostname is the pod name', async () => {
    const c = await cluster();
    const ref = await podRef(c, 'np-lab', 'backend');
    expect(result(c.execTyped(ref, ['hostname']))).toEqual({
      exitCode: 0,
      stdout: `${ref.name}\n`,
      stderr: '',
    });
  });

  it('resolv.conf names the kube-dns Service and the namespace search list', async () => {
    const c = await cluster();
    const ref = await podRef(c, 'np-lab', 'backend');
    const dns = (await c.list('Service', 'kube-system')).find((s) => s.metadata.name === 'kube-dns')!;
    const ip = String((dns.spec as { clusterIP: string }).clusterIP);
    expect(result(c.execTyped(ref, ['cat', '/etc/resolv.conf'])).stdout).toBe(
      `search np-lab.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${ip}\noptions ndots:5\n`,
    );
  });

  it('env has the container env and the Service variables of the namespace', async () => {
    const c = await cluster();
    const ref = await podRef(c, 'np-lab', 'db1');
    const db1 = (await c.list('Service', 'np-lab')).find((s) => s.metadata.name === 'db1')!;
    const ip = String((db1.spec as { clusterIP: string }).clusterIP);
    const env = result(c.execTyped(ref, ['env'])).stdout;
    expect(env).toContain('SERVE_PORT_1111=db1 on 1111\n');
    expect(env).toContain(`DB1_SERVICE_HOST=${ip}\n`);
    expect(env).toContain(`HOSTNAME=${ref.name}\n`);
  });

  it('other files and programs are not simulated, not made up', async () => {
    const c = await cluster();
    const ref = await podRef(c, 'np-lab', 'backend');
    expect(c.execTyped(ref, ['cat', '/etc/passwd'])).toHaveProperty('notSimulated');
    expect(c.execTyped(ref, ['ls', '/'])).toHaveProperty('notSimulated');
  });
});
