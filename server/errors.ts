/**
 * One error type for everything kubelab reports to a person. Each code has a fixed CLI exit code
 * and HTTP status, so the CLI and the web app never have to guess how bad something is.
 */

export type ErrorCode =
  | 'BAD_INPUT' // a file, object, flag or request the user gave is wrong
  | 'USAGE' // the command line itself is wrong
  | 'NOT_FOUND' // a lab, pod, file... that does not exist
  | 'FORBIDDEN' // e.g. the completion page before passing
  | 'ENVIRONMENT' // the cluster, Docker, kind, an exec... is broken: never the learner's fault
  | 'CHECK_FAILED' // the learner's work does not pass (not an error, but it exits 1)
  | 'INTERRUPTED' // Ctrl-C: the command cleaned up what it had made and stopped
  | 'INTERNAL';

export const EXIT_CODES: Record<ErrorCode, number> = {
  BAD_INPUT: 2,
  USAGE: 2,
  NOT_FOUND: 2,
  FORBIDDEN: 2,
  ENVIRONMENT: 3,
  CHECK_FAILED: 1,
  // The shell's convention for "ended by SIGINT".
  INTERRUPTED: 130,
  INTERNAL: 70,
};

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  USAGE: 400,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  ENVIRONMENT: 503,
  CHECK_FAILED: 200,
  INTERRUPTED: 503,
  INTERNAL: 500,
};

/** Where a problem is: file and 1-based line/column when known, and the field path inside the object. */
export interface Problem {
  file?: string;
  line?: number;
  column?: number;
  /** Field path such as `spec.egress[0].to[1].ipBlock.cidr`. */
  path?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}` : '';
  const parts = [where, p.path].filter((s) => s && s.length > 0);
  return parts.length > 0 ? `${parts.join(': ')}: ${p.message}` : p.message;
}

export class KubelabError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[];
  /** What the person should do next. */
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { problems?: Problem[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KubelabError';
    this.code = code;
    this.problems = opts.problems ?? [];
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** The whole message for a terminal: headline, every problem on its own line, then the hint. */
  format(): string {
    const lines = [this.message, ...this.problems.map((p) => `  - ${formatProblem(p)}`)];
    if (this.hint) lines.push(this.hint);
    return lines.join('\n');
  }

  toJSON(): { code: ErrorCode; message: string; problems: Problem[]; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      problems: this.problems,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export const badInput = (message: string, problems: Problem[] = [], hint?: string) =>
  new KubelabError('BAD_INPUT', message, { problems, ...(hint ? { hint } : {}) });

export const environmentError = (message: string, hint?: string, cause?: unknown) =>
  new KubelabError('ENVIRONMENT', message, { ...(hint ? { hint } : {}), cause });

export const interruptedError = (message: string, hint?: string) =>
  new KubelabError('INTERRUPTED', message, hint ? { hint } : {});

export const notFound = (message: string, hint?: string) =>
  new KubelabError('NOT_FOUND', message, hint ? { hint } : {});

export function isKubelabError(e: unknown): e is KubelabError {
  return e instanceof KubelabError;
}
