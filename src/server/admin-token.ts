/**
 * Admin tokens for the service's admin API: short-lived EdDSA JWTs that `authenticateAdmin`
 * accepts. `confide admin token` mints them from the command line.
 *
 * @module
 */
import { type KeyObject, randomUUID } from 'node:crypto'
import { userInfo } from 'node:os'
import { SignJWT } from 'jose'
import { ADMIN_AUDIENCE } from './admin-auth.js'

/** Lifetime of a token when none is given: 15 minutes. */
export const DEFAULT_ADMIN_TOKEN_TTL_SECONDS = 15 * 60

/** Options of `mintAdminToken`. */
export interface AdminTokenOptions {
  /** Lifetime in seconds, at most one hour. Default: 15 minutes. */
  readonly ttlSeconds?: number
  /** The `sub` claim, recorded as the actor of admin writes. Default: the login name. */
  readonly subject?: string
  /** Issue time. Default: now. */
  readonly now?: Date
}

/** Mints an admin token: EdDSA JWT with `aud` confide-admin, `sub`, `iat`, `exp` and a random `jti`. */
export async function mintAdminToken(
  key: KeyObject,
  options: AdminTokenOptions = {},
): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000)
  const ttl = options.ttlSeconds ?? DEFAULT_ADMIN_TOKEN_TTL_SECONDS
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setAudience(ADMIN_AUDIENCE)
    .setSubject(options.subject ?? userInfo().username)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(randomUUID())
    .sign(key)
}
