/**
 * Authentication of the admin API: `Authorization: Bearer <JWT>`, signed with EdDSA (Ed25519) by
 * a key whose public half the server was given. The token must name the audience
 * `confide-admin` and expire within `MAX_ADMIN_TOKEN_LIFETIME_SECONDS`, so a leaked token is
 * useful only briefly.
 *
 * @module
 */
import { type CryptoKey, errors, type JWTPayload, jwtVerify, type KeyObject } from 'jose'

/** The audience (`aud`) an admin token must name. */
export const ADMIN_AUDIENCE = 'confide-admin'
/** Maximum time from now to an admin token's expiry (`exp`), in seconds: one hour. */
export const MAX_ADMIN_TOKEN_LIFETIME_SECONDS = 3600
/** Clock skew tolerated when checking `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 30

/** An Ed25519 public key that may sign admin tokens. */
export type AdminKey = CryptoKey | KeyObject

/** The outcome of checking an admin credential. */
export type AdminAuthResult =
  | { readonly ok: true; readonly actor: string }
  | { readonly ok: false; readonly reason: string }

/** Returns the token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i.exec(header)
  return match?.[1]
}

/** Names who acted, for logs and audit rows: the token's `sub`, else `admin`. */
function actorOf(payload: JWTPayload): string {
  return typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub.slice(0, 200) : 'admin'
}

async function verifyWith(token: string, key: AdminKey, now: Date): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, key, {
    algorithms: ['EdDSA'],
    audience: ADMIN_AUDIENCE,
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    currentDate: now,
  })
  return payload
}

/**
 * Checks the `Authorization` header of an admin request against the admin keys. The reason of a
 * rejection is safe to send to the client: it never contains the token.
 */
export async function authenticateAdmin(
  header: string | undefined,
  keys: readonly AdminKey[],
  now: Date,
): Promise<AdminAuthResult> {
  if (keys.length === 0)
    return {
      ok: false,
      reason: 'no admin key is configured on this server, so admin routes are disabled',
    }
  const token = bearerToken(header)
  if (token === undefined)
    return { ok: false, reason: 'missing admin token: send Authorization: Bearer <JWT>' }
  let reason = 'admin token signature does not verify with any admin key'
  for (const key of keys) {
    try {
      const payload = await verifyWith(token, key, now)
      const lifetime = (payload.exp ?? 0) - Math.floor(now.getTime() / 1000)
      if (lifetime > MAX_ADMIN_TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS)
        return {
          ok: false,
          reason: `admin token expires in ${lifetime} s, more than the ${MAX_ADMIN_TOKEN_LIFETIME_SECONDS} s accepted`,
        }
      return { ok: true, actor: actorOf(payload) }
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) continue
      // A token rejected for its claims, algorithm or form is rejected by every key alike.
      if (!(error instanceof errors.JOSEError)) throw error
      reason = `admin token is invalid: ${error.message}`
      break
    }
  }

  return { ok: false, reason }
}
