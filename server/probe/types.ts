/**
 * Probes are commands run inside a source pod (curl, nc, DNS lookups). server/probe/ builds their
 * argv and classifies what came back; the simulated cluster answers the very same argv.
 */

export type ProbeOutcome =
  | 'allowed' // TCP connected (or a DNS name resolved)
  | 'refused' // reached the destination, nothing listening: policy let it through
  | 'blocked' // timed out: NetworkPolicy dropped it (Calico drops, it does not reject)
  | 'dns-failure' // the name did not resolve (DNS egress blocked, or no such name)
  | 'error'; // the probe itself failed: an environment problem, never a verdict

export type ProbeSpec =
  /** TCP connect to host:port; host is a DNS name or an IP. */
  | { kind: 'tcp'; host: string; port: number; timeoutSeconds: number }
  /** UDP datagram to host:port (only DNS gives a reliable UDP answer; see dns). */
  | { kind: 'udp'; host: string; port: number; timeoutSeconds: number }
  /** Resolve a name through the pod's resolver (UDP 53 to kube-dns). */
  | { kind: 'dns'; name: string; timeoutSeconds: number };

export interface ProbeClassification {
  outcome: ProbeOutcome;
  /** One line saying what was seen, e.g. `curl exit 28: Connection timed out after 2001 ms`. */
  detail: string;
}
