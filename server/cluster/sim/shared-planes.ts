/**
 * Data planes shared between simulated clusters whose content is the same.
 *
 * A server keeps one cluster per learner, all forked from the same scenario, and most learners
 * change only NetworkPolicies; many send the same answer. A data plane (./network.ts) and the
 * connection reports it remembers are a function of the cluster's objects alone, so clusters with
 * equal objects can use one plane instead of each building its own and judging every connection
 * again.
 *
 * Equal content is recognised without comparing whole states: `versionBesidesPolicies` names
 * everything but the NetworkPolicies (equal numbers mean the same objects, see newVersion in
 * ./state.ts), and the policies are compared by what the plane reads of them (./network.ts keeps
 * a policy only through validateNetworkPolicy, which reads apiVersion, kind, metadata.name,
 * metadata.namespace, metadata.labels, spec, and rejects other top-level fields).
 *
 * A plane is kept from the second time its content is asked for: an answer nobody else sent (most
 * of a class's first attempts) would only churn the memory, and the garbage collector with it
 * (measured: grading never-seen answers cost 15-25% more when every plane was kept).
 *
 * A kept plane is built over a fork of the state it was asked for, not the state itself: that
 * cluster goes on changing its own maps, and the plane must keep describing the content it was
 * keyed by.
 */
import { FrozenMemo } from '../../freeze.js';
import type { ExternalHost } from '../../labs/model.js';
import type { KubeObject } from '../types.js';
import { DataPlane } from './network.js';
import { stableStringify } from './random.js';
import { forkState, listObjects, type SimState } from './state.js';

export class SharedPlanes {
  /** Least recently used first (a Map keeps insertion order; a hit moves its plane to the end). */
  private readonly planes = new Map<string, DataPlane>();
  /** Stored objects are frozen, so a policy's part of the key is worked out once per object. */
  private readonly policyKeys = new FrozenMemo<KubeObject, string>();
  private readonly hostKeys = new WeakMap<readonly ExternalHost[], string>();
  /** Content asked for once, without a plane kept for it (oldest first). */
  private readonly seenOnce = new Set<string>();

  /** `capacity`: planes kept; each is some 100 kB, and the connection reports remembered in it. */
  constructor(private readonly capacity = 32) {}

  get size(): number {
    return this.planes.size;
  }

  /** The plane for this state's content: an equal one built before, or a new one (then kept). */
  plane(state: SimState, enforcePolicies: boolean, externalHosts: readonly ExternalHost[]): DataPlane {
    if (state.versionBesidesPolicies === undefined) {
      return new DataPlane(state, enforcePolicies, externalHosts);
    }
    const key = `${state.versionBesidesPolicies}|${enforcePolicies}|${this.hostsKey(externalHosts)}|${this.policiesKey(state)}`;
    const known = this.planes.get(key);
    if (known) {
      this.planes.delete(key);
      this.planes.set(key, known);
      return known;
    }
    if (!this.seenOnce.delete(key)) {
      this.seenOnce.add(key);
      if (this.seenOnce.size > this.capacity * 8) this.seenOnce.delete(this.seenOnce.values().next().value!);
      return new DataPlane(state, enforcePolicies, externalHosts);
    }
    const plane = new DataPlane(forkState(state), enforcePolicies, externalHosts);
    this.planes.set(key, plane);
    if (this.planes.size > this.capacity) {
      const oldest = this.planes.keys().next().value;
      if (oldest !== undefined) this.planes.delete(oldest);
    }
    return plane;
  }

  private hostsKey(hosts: readonly ExternalHost[]): string {
    let key = this.hostKeys.get(hosts);
    if (key === undefined) {
      key = stableStringify(hosts);
      this.hostKeys.set(hosts, key);
    }
    return key;
  }

  /** Every policy's key, in name order: the order they were applied in does not matter to the plane. */
  private policiesKey(state: SimState): string {
    const keys: string[] = [];
    for (const np of listObjects(state, 'NetworkPolicy')) keys.push(this.policyKey(np));
    return keys.sort().join('\n');
  }

  private policyKey(np: KubeObject): string {
    return this.policyKeys.get(np, () => {
      const { metadata, ...rest } = np as unknown as Record<string, unknown>;
      const meta = (metadata ?? {}) as Record<string, unknown>;
      return stableStringify({
        ...rest,
        metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels },
      });
    });
  }
}
