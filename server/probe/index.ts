export type { ProbeOutcome, ProbeSpec, ProbeClassification } from './types.js';
export {
  buildProbeArgv,
  parseProbeArgv,
  parseProbeCommand,
  defaultProbeTool,
  probeWrapperSeconds,
  probeDeadlineMs,
  serviceDnsName,
  isIP,
  isIPv4,
  isIPv6,
  isDnsName,
  PROBE_IMAGE,
  CLUSTER_DOMAIN,
  type ProbeTool,
  type ProbeCommand,
} from './command.js';
export { classifyProbe } from './classify.js';
