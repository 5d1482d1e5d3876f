// Types for scripts/build.js, which is plain JavaScript so that it runs before anything is compiled.
export declare const REPO_ROOT: string;
export declare function sourceFingerprint(root?: string): string;
export declare function buildState(root?: string): { fresh: true } | { fresh: false; reason: string };
export declare function build(root?: string): Promise<{ files: number }>;
