/**
 * A local learner has no account: a signed, httpOnly cookie carries a random id, and their progress
 * hangs off that id in the store. A tampered cookie just starts a fresh identity.
 */
import type { Request, RequestHandler, Response } from 'express';
import { isLearnerId, newLearnerId } from '../store/index.js';

export const LEARNER_COOKIE = 'kubelab_learner';
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export function learnerIdentity(): RequestHandler {
  return (req, res, next) => {
    const signed = (req.signedCookies as Record<string, unknown> | undefined)?.[LEARNER_COOKIE];
    // The signature proves this server issued the id; the store records it on the first action.
    let id = typeof signed === 'string' && isLearnerId(signed) ? signed : undefined;
    if (!id) {
      id = newLearnerId();
      res.cookie(LEARNER_COOKIE, id, {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        maxAge: ONE_YEAR_MS,
      });
    }
    res.locals.learnerId = id;
    next();
  };
}

export function learnerOf(_req: Request, res: Response): string {
  const id: unknown = res.locals.learnerId;
  if (typeof id !== 'string') throw new Error('learnerIdentity middleware did not run');
  return id;
}
