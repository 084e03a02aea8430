/**
 * Default settings of the service, kept apart from the server code so that the command line can
 * show them without loading Fastify.
 *
 * @module
 */

/** Largest request body accepted by default: 1 MiB. Evidence and collateral are a few KiB each. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024
/** Default rate limit of the unauthenticated routes, per client address and replica. */
export const DEFAULT_RATE_LIMIT = { max: 600, timeWindowMs: 60_000 } as const
/** Port the service listens on by default, as Trustee's KBS does. */
export const DEFAULT_PORT = 8080
/** Address the service listens on by default: loopback only. */
export const DEFAULT_HOST = '127.0.0.1'
