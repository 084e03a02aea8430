/**
 * The KBS audit log: one record per release, denial, attestation and administrative write.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely'
import type { StoreDatabase } from '../store/schema.js'

/** Every step or administrative write a record can be about. */
export const AUDIT_ACTIONS = [
  'attest',
  'resource',
  'set-resource',
  'delete-resource',
  'set-resource-policy',
  'delete-resource-policy',
  'set-attestation-policy',
  'set-policy',
  'delete-policy',
  'add-reference-value',
  'delete-reference-value',
] as const

/** The step or administrative write a record is about. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** The outcome: `allow` (released, attested, written) or `deny` (rejected). */
export type AuditDecision = 'allow' | 'deny'

/** One audit record. Absent fields did not apply or were not known at the decision. */
export interface AuditRecord {
  readonly id: number
  readonly at: Date
  readonly action: AuditAction
  readonly decision: AuditDecision
  /** Reason for the decision, in words. */
  readonly reason: string
  readonly clientAddress?: string
  readonly sessionId?: string
  readonly tee?: string
  /** `repository/type/tag`, or `*` for the default resource policy. */
  readonly resource?: string
  /** Hex SHA-256 of the evidence the decision rests on. */
  readonly evidenceSha256?: string
  /** ID of the policy applied or written, or of the reference value written. */
  readonly policyId?: string
  /** The administrator who wrote, for administrative actions. */
  readonly actor?: string
}

/** A record to write: everything but the generated ID. */
export type AuditEntry = Omit<AuditRecord, 'id'>

/** Conditions on the records `audit` returns, all of which must hold. */
export interface AuditQuery {
  /** Records at or after this time. */
  readonly since?: Date
  /** Records before this time. */
  readonly until?: Date
  /** Records about this resource (`repository/type/tag` or `*`). */
  readonly resource?: string
  readonly decision?: AuditDecision
  readonly action?: AuditAction
  /** Maximum number of records, newest first. Absent: 100; at most 1000. */
  readonly limit?: number
}

/** Default and maximum number of records one query returns. */
export const AUDIT_DEFAULT_LIMIT = 100
export const AUDIT_MAX_LIMIT = 1000

/** Writes one record, in the caller's transaction when it gives one. */
export async function writeAudit(
  db: Kysely<StoreDatabase> | Transaction<StoreDatabase>,
  entry: AuditEntry,
): Promise<void> {
  await db
    .insertInto('kbs_audit')
    .values({
      at: entry.at.toISOString(),
      action: entry.action,
      decision: entry.decision,
      reason: entry.reason,
      client_address: entry.clientAddress ?? null,
      session_id: entry.sessionId ?? null,
      tee: entry.tee ?? null,
      resource: entry.resource ?? null,
      evidence_sha256: entry.evidenceSha256 ?? null,
      policy_id: entry.policyId ?? null,
      actor: entry.actor ?? null,
    })
    .execute()
}

function optional<K extends string>(name: K, value: string | null): { [P in K]?: string } {
  return (value === null ? {} : { [name]: value }) as { [P in K]?: string }
}

/** Returns the records that match, newest first. */
export async function readAudit(
  db: Kysely<StoreDatabase>,
  query: AuditQuery,
): Promise<AuditRecord[]> {
  const limit = Math.min(
    Math.max(1, Math.floor(query.limit ?? AUDIT_DEFAULT_LIMIT)),
    AUDIT_MAX_LIMIT,
  )
  let select = db.selectFrom('kbs_audit').selectAll()
  if (query.since !== undefined) select = select.where('at', '>=', query.since.toISOString())
  if (query.until !== undefined) select = select.where('at', '<', query.until.toISOString())
  if (query.resource !== undefined) select = select.where('resource', '=', query.resource)
  if (query.decision !== undefined) select = select.where('decision', '=', query.decision)
  if (query.action !== undefined) select = select.where('action', '=', query.action)
  const rows = await select.orderBy('id', 'desc').limit(limit).execute()

  return rows.map((row) => ({
    id: Number(row.id),
    at: new Date(row.at),
    action: row.action as AuditAction,
    decision: row.decision as AuditDecision,
    reason: row.reason,
    ...optional('clientAddress', row.client_address),
    ...optional('sessionId', row.session_id),
    ...optional('tee', row.tee),
    ...optional('resource', row.resource),
    ...optional('evidenceSha256', row.evidence_sha256),
    ...optional('policyId', row.policy_id),
    ...optional('actor', row.actor),
  }))
}
