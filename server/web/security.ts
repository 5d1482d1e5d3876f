/**
 * What keeps a local lab server from being used by other web pages: a strict CSP (no inline script
 * at all), POSTs only from our own pages, and, on loopback, only our own host names (DNS rebinding).
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { KubelabError } from '../errors.js';

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Served over plain http on the learner's machine: HSTS would break other local servers.
    strictTransportSecurity: false,
    // Same-origin requests keep their Referer/Origin (form posts need a real Origin); others get none.
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests that a browser marks as coming from another site. Sec-Fetch-Site
 * is set by the browser itself and decides when present (a form post may carry `Origin: null`);
 * older browsers are judged by Origin. Requests with neither come from non-browser clients (curl,
 * tests), which cookies do not protect anyway.
 */
export function sameOriginOnly(): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.get('sec-fetch-site');
    if (site !== undefined) {
      return site === 'same-origin' || site === 'none'
        ? next()
        : next(forbiddenCrossSite(`Sec-Fetch-Site: ${site}`));
    }
    const origin = req.get('origin');
    if (origin !== undefined && !sameOrigin(origin, req.protocol, req.get('host')))
      return next(forbiddenCrossSite(`Origin: ${origin}`));
    next();
  };
}

/**
 * Scheme, host and port all count: `https://127.0.0.1:PORT` is another origin than the http server
 * on that port (another program could serve TLS there). Default ports are compared normalised.
 */
export function sameOrigin(origin: string, protocol: string, host: string | undefined): boolean {
  if (origin === 'null' || host === undefined) return false;
  try {
    const from = new URL(origin);
    const self = new URL(`${protocol}://${host}`);
    return from.protocol === self.protocol && from.host === self.host;
  } catch {
    return false;
  }
}

function forbiddenCrossSite(what: string): KubelabError {
  return new KubelabError('FORBIDDEN', `cross-site request refused (${what})`, {
    hint: 'Use the kubelab page itself; other sites cannot act on your labs.',
  });
}

/** Accepts only the listed host names (ports ignored); others get 403 before any route runs. */
/** Does a Host header name one of these host names (all of them when there is no list)? */
export function hostAllowed(hostnames: string[] | undefined, hostHeader: string | undefined): boolean {
  if (!hostnames) return true;
  const host = (hostHeader ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return hostnames.some((h) => h.toLowerCase() === name);
}

export function allowedHostsOnly(hostnames: string[]): RequestHandler {
  return (req, _res, next) => {
    const host = (req.get('host') ?? '').toLowerCase();
    if (hostAllowed(hostnames, host)) return next();
    next(
      new KubelabError('FORBIDDEN', `this kubelab server does not answer to host ${JSON.stringify(host)}`, {
        hint: 'Open it through the address printed by `kubelab serve`, or start it with --host to expose it.',
      }),
    );
  };
}
