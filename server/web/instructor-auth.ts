/**
 * The instructor's key: one token, printed when the server starts (or KUBELAB_INSTRUCTOR_TOKEN).
 * It opens /instructor and /api/instructor, as a Bearer token or through a cookie of its own that
 * holds an HMAC of the token (never the token itself, never a learner's cookie). Every comparison
 * is constant-time over equal-length digests.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export const INSTRUCTOR_COOKIE = 'kubelab_instructor';

export function newInstructorToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** What the instructor's cookie holds: proves knowledge of the token without carrying it. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('kubelab instructor session v1').digest('base64url');
}

export function isInstructor(req: Request, token: string | undefined): boolean {
  if (!token) return false;
  const auth = req.get('authorization');
  if (auth?.startsWith('Bearer ')) return sameSecret(auth.slice(7).trim(), token);
  const cookie = (req.cookies as Record<string, unknown> | undefined)?.[INSTRUCTOR_COOKIE];
  return typeof cookie === 'string' && sameSecret(cookie, sessionValue(token));
}
