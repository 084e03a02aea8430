/**
 * KBS sessions in the store: created by `auth`, their nonce consumed once by `attest`, then
 * bound to a TEE key, a verification result and a token. A session is stored under the SHA-256
 * of its ID (`sessionKey`), as tokens are, so the store and the audit log never hold a cookie
 * value that would open the session.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { KbsSessionTable, StoreDatabase } from '../store/schema.js'

/** Returns the key a session is stored under: the hex SHA-256 of its ID, the cookie value. */
export function sessionKey(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex')
}

/** A new session, as `auth` writes it. */
export interface NewSession {
  /** The session's key (`sessionKey` of its ID). */
  readonly id: string
  readonly tee: string
  readonly version: string
  readonly clientAddress: string
  readonly nonce: string
  readonly createdAt: Date
  readonly nonceExpiresAt: Date
  readonly expiresAt: Date
}

/** Outcome of an attestation, which `attest` binds to a session. */
export interface SessionBinding {
  readonly attestedAt: Date
  readonly expiresAt: Date
  readonly teePubkey: string
  readonly evidenceSha256: string
  readonly verification: string
  readonly tokenSha256: string
  readonly tokenExpiresAt: Date
}

/** Reason a nonce could not be consumed. */
export type NonceRejection = 'unknown session' | 'session expired' | 'nonce used' | 'nonce expired'

/** Inserts a session that `auth` opened, with its nonce unused and no attestation bound. */
export async function insertSession(db: Kysely<StoreDatabase>, session: NewSession) {
  await db
    .insertInto('kbs_session')
    .values({
      id: session.id,
      tee: session.tee,
      version: session.version,
      client_address: session.clientAddress,
      nonce: session.nonce,
      nonce_expires_at: session.nonceExpiresAt.toISOString(),
      nonce_used_at: null,
      created_at: session.createdAt.toISOString(),
      expires_at: session.expiresAt.toISOString(),
      attested_at: null,
      tee_pubkey: null,
      evidence_sha256: null,
      verification: null,
      token_sha256: null,
      token_expires_at: null,
    })
    .execute()
}

/**
 * Consumes the session's nonce if it is unused and unexpired and the session unexpired. The
 * check and the write are one conditional UPDATE, so of two concurrent attempts on any replica
 * only one succeeds. Returns the session row as it was, or why the nonce was rejected.
 */
export async function consumeNonce(
  db: Kysely<StoreDatabase>,
  id: string,
  now: Date,
): Promise<KbsSessionTable | NonceRejection> {
  const at = now.toISOString()

  return db.transaction().execute(async (transaction) => {
    const row = await transaction
      .selectFrom('kbs_session')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    if (row === undefined) return 'unknown session'
    const result = await transaction
      .updateTable('kbs_session')
      .set({ nonce_used_at: at })
      .where('id', '=', id)
      .where('nonce_used_at', 'is', null)
      .where('nonce_expires_at', '>', at)
      .where('expires_at', '>', at)
      .executeTakeFirst()
    if (result.numUpdatedRows === 1n) return row
    if (row.expires_at <= at) return 'session expired'
    if (row.nonce_used_at !== null) return 'nonce used'
    if (row.nonce_expires_at <= at) return 'nonce expired'

    // Another attempt consumed the nonce between the read and the update.
    return 'nonce used'
  })
}

/** Returns the session with this ID, or undefined. */
export async function findSession(db: Kysely<StoreDatabase>, id: string) {
  return db.selectFrom('kbs_session').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Returns the session a token was issued for, by the token's SHA-256, or undefined. */
export async function findSessionByToken(db: Kysely<StoreDatabase>, tokenSha256: string) {
  return db
    .selectFrom('kbs_session')
    .selectAll()
    .where('token_sha256', '=', tokenSha256)
    .executeTakeFirst()
}

/** Binds an attestation's outcome to the session, in the caller's transaction. */
export async function bindSession(
  db: Kysely<StoreDatabase>,
  id: string,
  binding: SessionBinding,
): Promise<void> {
  await db
    .updateTable('kbs_session')
    .set({
      attested_at: binding.attestedAt.toISOString(),
      expires_at: binding.expiresAt.toISOString(),
      tee_pubkey: binding.teePubkey,
      evidence_sha256: binding.evidenceSha256,
      verification: binding.verification,
      token_sha256: binding.tokenSha256,
      token_expires_at: binding.tokenExpiresAt.toISOString(),
    })
    .where('id', '=', id)
    .execute()
}
