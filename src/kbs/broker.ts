/**
 * The key broker: Trustee's KBS protocol (auth → attest → resource) over the store, so that any
 * replica sharing the store can take any step. Sessions, nonces, sealed resources, policies and
 * the audit log all live in the store; nothing is kept in memory between calls.
 *
 * @see Trustee `kbs/docs/kbs_attestation_protocol.md`
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  type AppraisalResult,
  appraise,
  DEFAULT_POLICY,
  type EarSigningKey,
  type Policy,
  type VerifierIdentity,
  validatePolicy,
} from '../appraisal/index.js'
import type { VerifyOptions } from '../core/platform.js'
import type { VerificationResult } from '../core/types.js'
import type { Store } from '../store/open.js'
import type { KbsSessionTable } from '../store/schema.js'
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  readAudit,
  writeAudit,
} from './audit.js'
import { checkBinding } from './binding.js'
import type { ResourceSealer } from './envelope.js'
import { KbsError } from './errors.js'
import { kbsEvidenceBytes, kbsTeePlatform } from './evidence.js'
import { checkTeeKey, sealToTeeKey } from './jwe.js'
import type {
  KbsAttestation,
  KbsAttestationToken,
  KbsChallenge,
  KbsRequest,
  KbsResponse,
  KbsTeePubkey,
} from './protocol.js'
import { formatResourcePath, type ResourcePath, validateResourcePath } from './resource-path.js'
import * as resources from './resources.js'
import { runtimeDataDigest } from './runtime-data.js'
import {
  bindSession,
  consumeNonce,
  findSession,
  findSessionByToken,
  insertSession,
  sessionKey,
} from './sessions.js'
import { signKbsToken, tokenDigest, tokenVerificationKey, verifyKbsToken } from './token.js'

/** KBS protocol versions accepted by default: the one Trustee's KBS speaks (0.4.0). */
export const KBS_PROTOCOL_VERSIONS: readonly string[] = ['0.4.0']

/** Default lifetimes, in seconds. */
export const KBS_NONCE_TTL_SECONDS = 300
export const KBS_SESSION_TTL_SECONDS = 300
export const KBS_TOKEN_TTL_SECONDS = 300

/** The path a resource policy applies to: one resource, or `*` for those without their own. */
export type ResourcePolicyPath = ResourcePath | '*'

/** Evidence verification, as `verifyKbsEvidence` does it: bytes of the named Trustee TEE. */
export type KbsVerifyFunction = (
  evidence: Uint8Array,
  tee: string,
  options: VerifyOptions,
) => Promise<VerificationResult>

/** The peer of a request, for the audit log. */
export interface KbsClient {
  /** The client's network address, as the server saw it. */
  readonly address: string
}

/** Credentials of a resource request: the session cookie, the bearer token, or both. */
export interface KbsCredential {
  readonly sessionId?: string
  readonly token?: string
}

/** Store, keys, evidence verifier and lifetimes of a `KbsBroker`. */
export interface KbsBrokerOptions {
  readonly store: Store
  readonly sealer: ResourceSealer
  /** Signs attestation tokens; its public key verifies bearer tokens. */
  readonly signer: EarSigningKey
  /** Verifies evidence: `verifyKbsEvidence`, or a wrapper adding trusted keys or collateral. */
  readonly verify: KbsVerifyFunction
  /** The clock. Absent: the system clock. */
  readonly now?: () => Date
  /** Lifetime of a challenge nonce, in seconds. Absent: 300. */
  readonly nonceTtlSeconds?: number
  /** Seconds a session lasts from `auth`, and again from a successful `attest`. Absent: 300. */
  readonly sessionTtlSeconds?: number
  /** Seconds an attestation token is valid. Absent: 300. */
  readonly tokenTtlSeconds?: number
  /** Makes challenge nonces. Absent: 32 random bytes in standard base64, as Trustee does. */
  readonly randomNonce?: () => string
  /** Protocol versions accepted in a `Request`. Absent: `KBS_PROTOCOL_VERSIONS`. */
  readonly protocolVersions?: readonly string[]
  /** Verifier identity in tokens. Absent: confide. */
  readonly verifier?: VerifierIdentity
}

/** Result of `auth`: the challenge, and the session the server sets as its cookie. */
export interface KbsAuthResult {
  readonly challenge: KbsChallenge
  readonly sessionId: string
  readonly expiresAt: Date
}

/** Shortest time between two purges of expired sessions by one broker, in milliseconds. */
const SESSION_PURGE_INTERVAL_MS = 60_000

const DEFAULT_VERIFIER: VerifierIdentity = { build: 'confide', developer: 'confide' }

/** Additional data of a sealed resource: binds it to its path. */
function resourceAad(path: string): Uint8Array {
  return new TextEncoder().encode(`confide-kbs-resource:${path}`)
}

function policyPath(path: ResourcePolicyPath): string {
  return path === '*' ? '*' : formatResourcePath(validateResourcePath(path))
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function addSeconds(at: Date, seconds: number): Date {
  return new Date(at.getTime() + seconds * 1000)
}

/**
 * Returns why an appraisal does not satisfy its policy, or undefined when it does. It satisfies
 * the policy when every check passed and the status is affirming or warning.
 */
function unsatisfied(appraisal: AppraisalResult): string | undefined {
  const failed = appraisal.checks.filter((check) => check.status !== 'pass')
  if (failed.length > 0)
    return failed.map((check) => `${check.name} ${check.status}: ${check.detail}`).join('; ')
  if (appraisal.status !== 'affirming' && appraisal.status !== 'warning')
    return `the appraisal status is ${appraisal.status}`

  return undefined
}

/** The Trustee KBS protocol and its administration, over a store. */
export class KbsBroker {
  readonly #options: KbsBrokerOptions
  readonly #now: () => Date
  /** When this broker last purged expired sessions, in milliseconds since the epoch. */
  #lastPurge = Number.NEGATIVE_INFINITY

  constructor(options: KbsBrokerOptions) {
    this.#options = options
    this.#now = options.now ?? (() => new Date())
  }

  get #db() {
    return this.#options.store.db
  }

  /**
   * Opens a session for a `Request` and returns its challenge.
   *
   * @throws KbsError `ERR_KBS_PROTOCOL_VERSION` for a version not accepted;
   *   `ERR_KBS_ATTESTATION` for a TEE the broker cannot verify.
   */
  async auth(request: KbsRequest, client: KbsClient): Promise<KbsAuthResult> {
    const versions = this.#options.protocolVersions ?? KBS_PROTOCOL_VERSIONS
    if (!versions.includes(request.version))
      throw new KbsError(
        'ERR_KBS_PROTOCOL_VERSION',
        `KBS protocol version ${request.version} is not supported, expected ${versions.join(' or ')}`,
      )
    if (kbsTeePlatform(request.tee) === undefined)
      throw new KbsError(
        'ERR_KBS_ATTESTATION',
        `TEE ${request.tee} is not supported by this broker`,
      )

    const now = this.#now()
    await this.#purgeExpiredSessionsIfDue(now)
    const nonce = this.#options.randomNonce?.() ?? randomBytes(32).toString('base64')
    const sessionId = randomBytes(32).toString('base64url')
    const expiresAt = addSeconds(now, this.#options.sessionTtlSeconds ?? KBS_SESSION_TTL_SECONDS)
    await insertSession(this.#db, {
      id: sessionKey(sessionId),
      tee: request.tee,
      version: request.version,
      clientAddress: client.address,
      nonce,
      createdAt: now,
      nonceExpiresAt: addSeconds(now, this.#options.nonceTtlSeconds ?? KBS_NONCE_TTL_SECONDS),
      expiresAt,
    })

    return { challenge: { nonce, 'extra-params': '' }, sessionId, expiresAt }
  }

  /**
   * Checks an `Attestation` against its session and issues a token. First the session's nonce
   * is consumed, which fails when it is used or expired. Then `runtime-data.nonce` must equal
   * it, the evidence must verify with report data equal to the runtime-data digest, and the
   * evidence must come from the session's TEE. The token carries the appraisal under the
   * attestation policy, and each release appraises the result again under the resource's
   * policy. Writes one audit record.
   *
   * @throws KbsError `ERR_KBS_ATTESTATION` naming the first check that failed.
   */
  async attest(
    sessionId: string,
    attestation: KbsAttestation,
    client?: KbsClient,
  ): Promise<KbsAttestationToken> {
    const now = this.#now()
    const key = sessionKey(sessionId)
    const consumed = await consumeNonce(this.#db, key, now)
    const base: AuditEntry = {
      at: now,
      action: 'attest',
      decision: 'deny',
      reason: '',
      ...(client === undefined ? {} : { clientAddress: client.address }),
      sessionId: key,
    }
    if (typeof consumed === 'string')
      throw await this.#auditDenial(base, 'ERR_KBS_ATTESTATION', consumed)

    const session = consumed
    const entry: AuditEntry = {
      ...base,
      clientAddress: base.clientAddress ?? session.client_address,
      tee: session.tee,
    }
    try {
      return await this.#attestSession(session, attestation, entry, now)
    } catch (error) {
      if (error instanceof KbsError)
        throw await this.#auditDenial(entry, error.code, error.message, error)
      throw error
    }
  }

  async #attestSession(
    session: KbsSessionTable,
    attestation: KbsAttestation,
    entry: AuditEntry,
    now: Date,
  ): Promise<KbsAttestationToken> {
    const fail = (reason: string, cause?: unknown) =>
      new KbsError('ERR_KBS_ATTESTATION', reason, cause === undefined ? {} : { cause })
    const runtime = attestation['runtime-data']
    if (runtime.nonce !== session.nonce)
      throw fail('runtime-data nonce does not equal the nonce of the session challenge')
    if (attestation['init-data'] !== undefined)
      throw fail('init-data is not supported: the broker cannot check its binding yet')
    const additional = attestation['tee-evidence'].additional_evidence
    if (additional !== '')
      throw fail(
        'additional_evidence is not supported: the broker verifies one TEE per attestation',
      )

    const tee = session.tee
    const evidence = kbsEvidenceBytes(tee, attestation['tee-evidence'].primary_evidence)
    const evidenceSha256 = sha256Hex(evidence)
    const teePubkey = runtime['tee-pubkey']
    const digest = runtimeDataDigest(
      { nonce: runtime.nonce, teePubkey, additionalEvidence: additional },
      tee,
    )
    const policy = (await resources.getAttestationPolicy(this.#db)) ?? DEFAULT_POLICY
    let result: VerificationResult
    try {
      const options = {
        at: now,
        expectedReportData: digest,
        allowDebug: policy.allowDebug === true,
      }
      result = await this.#options.verify(evidence, tee, options)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw fail(`evidence could not be verified: ${reason}`, error)
    }
    const problem = checkBinding(result, digest, kbsTeePlatform(tee))
    if (problem !== undefined) throw fail(problem)
    await checkTeeKey(teePubkey)

    const appraisal = appraise(result, policy, { at: now })
    const tokenTtl = this.#options.tokenTtlSeconds ?? KBS_TOKEN_TTL_SECONDS
    const tokenExpiresAt = addSeconds(now, tokenTtl)
    const token = await signKbsToken(
      {
        appraisal,
        nonce: session.nonce,
        teePubkey,
        issuedAt: now,
        expiresAt: tokenExpiresAt,
        verifier: this.#options.verifier ?? DEFAULT_VERIFIER,
      },
      this.#options.signer,
    )
    const sessionTtl = this.#options.sessionTtlSeconds ?? KBS_SESSION_TTL_SECONDS
    await this.#db.transaction().execute(async (transaction) => {
      await bindSession(transaction, session.id, {
        attestedAt: now,
        expiresAt: addSeconds(now, sessionTtl),
        teePubkey: JSON.stringify(teePubkey),
        evidenceSha256,
        verification: JSON.stringify(result),
        tokenSha256: tokenDigest(token),
        tokenExpiresAt,
      })
      await writeAudit(transaction, {
        ...entry,
        decision: 'allow',
        evidenceSha256,
        policyId: appraisal.policyId,
        reason: `attested: ${result.platform} evidence ${result.verdict}, token status ${appraisal.status}`,
      })
    })

    return { token }
  }

  /**
   * Releases a resource by encrypting it to the TEE key bound at attestation. The credential
   * must name an attested session whose cookie is unexpired, or carry an unexpired token. The
   * stored verification result, appraised now, must pass every check of the resource's policy.
   * That is the resource's own policy, else the `*` policy. Without either, the request is
   * denied. Writes one audit record per call, whatever the outcome.
   *
   * @throws KbsError `ERR_KBS_UNAUTHORIZED` (401) for a missing, unknown, expired or unattested
   *   credential, `ERR_KBS_NOT_FOUND` (404) for an invalid path or a missing resource,
   *   `ERR_KBS_DENIED` (403) when the policy denies the release, and `ERR_KBS_ENVELOPE` when the
   *   stored resource cannot be decrypted.
   */
  async resource(
    credential: KbsCredential,
    path: ResourcePath,
    client: KbsClient,
  ): Promise<KbsResponse> {
    const now = this.#now()
    const base: AuditEntry = {
      at: now,
      action: 'resource',
      decision: 'deny',
      reason: '',
      clientAddress: client.address,
      ...(credential.sessionId === undefined
        ? {}
        : { sessionId: sessionKey(credential.sessionId) }),
      // The path is not validated yet, so the audit record keeps at most 400 characters of it.
      resource: `${path.repository}/${path.type}/${path.tag}`.slice(0, 400),
    }
    let entry = base
    try {
      const name = formatResourcePath(validateResourcePath(path))
      const session = await this.#authenticate(credential, now)
      entry = {
        ...base,
        resource: name,
        sessionId: session.id,
        tee: session.tee,
        ...(session.evidence_sha256 === null ? {} : { evidenceSha256: session.evidence_sha256 }),
      }
      return await this.#release(session, name, entry, now)
    } catch (error) {
      if (error instanceof KbsError) {
        const policyId = (error as { policyId?: string }).policyId
        const record = policyId === undefined ? entry : { ...entry, policyId }
        throw await this.#auditDenial(record, error.code, error.message, error)
      }
      throw error
    }
  }

  async #release(
    session: KbsSessionTable,
    name: string,
    entry: AuditEntry,
    now: Date,
  ): Promise<KbsResponse> {
    const sealed = await resources.getResource(this.#db, name)
    if (sealed === undefined)
      throw new KbsError('ERR_KBS_NOT_FOUND', `resource ${name} does not exist`)
    const policy =
      (await resources.getResourcePolicy(this.#db, name)) ??
      (await resources.getResourcePolicy(this.#db, '*'))
    if (policy === undefined)
      throw new KbsError('ERR_KBS_DENIED', `no resource policy applies to ${name}: default deny`)
    const verification = JSON.parse(session.verification ?? 'null') as VerificationResult
    const appraisal = appraise(verification, policy, { at: now })
    const problem = unsatisfied(appraisal)
    if (problem !== undefined) {
      const error = new KbsError('ERR_KBS_DENIED', `policy ${policy.id} denies ${name}: ${problem}`)
      throw Object.assign(error, { policyId: policy.id })
    }

    const plaintext = this.#options.sealer.open(sealed, resourceAad(name))
    const teePubkey = JSON.parse(session.tee_pubkey ?? 'null') as KbsTeePubkey
    const response = await sealToTeeKey(plaintext, teePubkey)
    plaintext.fill(0)
    await writeAudit(this.#db, {
      ...entry,
      decision: 'allow',
      policyId: policy.id,
      reason: `released: policy ${policy.id} satisfied, status ${appraisal.status}`,
    })

    return response
  }

  /** Returns the attested session a credential names, or throws `ERR_KBS_UNAUTHORIZED`. */
  async #authenticate(credential: KbsCredential, now: Date): Promise<KbsSessionTable> {
    const unauthorized = (reason: string, problemType = 'TokenNotFound') =>
      new KbsError('ERR_KBS_UNAUTHORIZED', reason, { problemType })
    if (credential.sessionId === undefined && credential.token === undefined)
      throw unauthorized('no kbs-session-id cookie and no bearer token')

    const fromToken =
      credential.token === undefined ? undefined : await this.#tokenSession(credential.token, now)
    if (credential.sessionId === undefined) return fromToken!
    const session = await findSession(this.#db, sessionKey(credential.sessionId))
    if (session === undefined) throw unauthorized('the session is unknown')
    if (fromToken !== undefined && fromToken.id !== session.id)
      throw unauthorized('the bearer token was issued for another session', 'TokenVerifierError')
    if (fromToken === undefined && session.expires_at <= now.toISOString())
      throw unauthorized('the session is expired')
    if (session.attested_at === null) throw unauthorized('the session is not attested')

    return session
  }

  async #tokenSession(token: string, now: Date): Promise<KbsSessionTable> {
    const invalid = (reason: string, cause?: unknown) =>
      new KbsError('ERR_KBS_UNAUTHORIZED', `the bearer token is invalid: ${reason}`, {
        problemType: 'TokenVerifierError',
        ...(cause === undefined ? {} : { cause }),
      })
    let teePubkey: unknown
    try {
      teePubkey = await verifyKbsToken(token, tokenVerificationKey(this.#options.signer), now)
    } catch (error) {
      throw invalid(error instanceof Error ? error.message : String(error), error)
    }
    const session = await findSessionByToken(this.#db, tokenDigest(token))
    if (session === undefined || session.tee_pubkey === null)
      throw invalid('no session of this broker issued it')
    if (JSON.stringify(teePubkey) !== session.tee_pubkey)
      throw invalid('its tee-pubkey differs from the key bound at attestation')

    return session
  }

  /** Writes a deny record to the audit log and returns the error to throw. */
  async #auditDenial(
    entry: AuditEntry,
    code: KbsError['code'],
    reason: string,
    cause?: KbsError,
  ): Promise<KbsError> {
    await writeAudit(this.#db, { ...entry, decision: 'deny', reason })

    return cause ?? new KbsError(code, reason)
  }

  /** Seals and stores a resource, replacing the one under the same path. Returns after commit. */
  async setResource(path: ResourcePath, bytes: Uint8Array, actor: string): Promise<void> {
    const name = formatResourcePath(validateResourcePath(path))
    const sealed = this.#options.sealer.seal(bytes, resourceAad(name))
    const at = this.#now()
    await this.#db.transaction().execute(async (transaction) => {
      await resources.putResource(transaction, name, sealed, { at, actor })
      await writeAudit(transaction, {
        at,
        action: 'set-resource',
        decision: 'allow',
        reason: `stored ${bytes.length} bytes, sealed`,
        resource: name,
        actor,
      })
    })
  }

  /** Deletes a resource. Returns whether there was one. Returns after commit. */
  async deleteResource(path: ResourcePath, actor: string): Promise<boolean> {
    const name = formatResourcePath(validateResourcePath(path))
    const at = this.#now()

    return this.#db.transaction().execute(async (transaction) => {
      const deleted = await resources.deleteResource(transaction, name)
      const reason = deleted ? 'deleted' : 'no resource to delete'
      await writeAudit(transaction, {
        at,
        action: 'delete-resource',
        decision: 'allow',
        reason,
        resource: name,
        actor,
      })
      return deleted
    })
  }

  /**
   * Sets the policy a resource (or, with `*`, every resource without its own) is released
   * under. Returns after commit.
   *
   * @throws PolicyError `ERR_POLICY_INVALID` for a malformed policy.
   */
  async setResourcePolicy(path: ResourcePolicyPath, policy: Policy, actor: string): Promise<void> {
    const name = policyPath(path)
    const checked = validatePolicy(policy)
    const at = this.#now()
    await this.#db.transaction().execute(async (transaction) => {
      await resources.putResourcePolicy(transaction, name, checked, { at, actor })
      await writeAudit(transaction, {
        at,
        action: 'set-resource-policy',
        decision: 'allow',
        reason: `policy ${checked.id} set`,
        resource: name,
        policyId: checked.id,
        actor,
      })
    })
  }

  /** Returns the policy set for exactly this path (or `*`), or undefined. */
  async getResourcePolicy(path: ResourcePolicyPath): Promise<Policy | undefined> {
    return resources.getResourcePolicy(this.#db, policyPath(path))
  }

  /** Deletes the policy of a path (or `*`). Returns whether there was one. */
  async deleteResourcePolicy(path: ResourcePolicyPath, actor: string): Promise<boolean> {
    const name = policyPath(path)
    const at = this.#now()

    return this.#db.transaction().execute(async (transaction) => {
      const deleted = await resources.deleteResourcePolicy(transaction, name)
      await writeAudit(transaction, {
        at,
        action: 'delete-resource-policy',
        decision: 'allow',
        reason: deleted ? 'deleted' : 'no policy to delete',
        resource: name,
        actor,
      })
      return deleted
    })
  }

  /**
   * Sets the attestation policy: the appraisal each token carries. Absent one, tokens carry the
   * appraisal under `DEFAULT_POLICY`. Returns after commit.
   *
   * @throws PolicyError `ERR_POLICY_INVALID` for a malformed policy.
   */
  async setAttestationPolicy(policy: Policy, actor: string): Promise<void> {
    const checked = validatePolicy(policy)
    const at = this.#now()
    await this.#db.transaction().execute(async (transaction) => {
      await resources.putAttestationPolicy(transaction, checked, { at, actor })
      await writeAudit(transaction, {
        at,
        action: 'set-attestation-policy',
        decision: 'allow',
        reason: `policy ${checked.id} set`,
        policyId: checked.id,
        actor,
      })
    })
  }

  /** Returns the attestation policy in force: the stored one, or `DEFAULT_POLICY`. */
  async getAttestationPolicy(): Promise<Policy> {
    return (await resources.getAttestationPolicy(this.#db)) ?? DEFAULT_POLICY
  }

  /** Returns audit records, newest first. */
  async audit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return readAudit(this.#db, query)
  }

  /**
   * Deletes expired sessions unless this broker did so less than `SESSION_PURGE_INTERVAL_MS`
   * ago. `auth` calls it, so the sessions that unauthenticated requests open are deleted once
   * expired instead of accumulating in the store.
   */
  async #purgeExpiredSessionsIfDue(now: Date): Promise<void> {
    if (now.getTime() - this.#lastPurge < SESSION_PURGE_INTERVAL_MS) return
    this.#lastPurge = now.getTime()
    await this.purgeExpiredSessions(now)
  }

  /**
   * Deletes sessions whose cookie and token have both expired before `before` (default now).
   * Returns how many were deleted.
   */
  async purgeExpiredSessions(before: Date = this.#now()): Promise<number> {
    const at = before.toISOString()
    const result = await this.#db
      .deleteFrom('kbs_session')
      .where('expires_at', '<', at)
      .where((where) =>
        where.or([where('token_expires_at', 'is', null), where('token_expires_at', '<', at)]),
      )
      .executeTakeFirst()

    return Number(result.numDeletedRows)
  }
}
