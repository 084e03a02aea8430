/**
 * Certificate path validation to a pinned root at a given time, with CRL checks.
 *
 * @module
 */
import { bytesEqual } from '../core/bytes.js'
import { VerificationCache } from '../core/cache.js'
import type { ErrorCode } from '../core/errors.js'
import type { CryptoPort, PublicKey } from '../crypto/port.js'
import type { Certificate } from './certificate.js'
import type { Crl } from './crl.js'

/** Longest path accepted, leaf and root included. */
const MAX_PATH_LENGTH = 8

export interface ChainOptions {
  /** The instant every certificate and CRL is judged at. */
  readonly at: Date
  /** Trusted roots. A path is accepted only when it ends at one of these. */
  readonly anchors: readonly Certificate[]
  /** CRLs to consult. A certificate is checked against every CRL whose issuer issued it. */
  readonly crls?: readonly Crl[]
  readonly crypto: CryptoPort
  /** Remembers decoded keys and signature results between calls. */
  readonly cache?: VerificationCache
}

/** The revocation outcome of one certificate of the path. */
export interface RevocationStatus {
  readonly subject: string
  /** Whether a CRL from this certificate's issuer was consulted. */
  readonly checked: boolean
}

export interface ChainResult {
  readonly ok: boolean
  /** The reason the path was rejected. Absent when `ok`. */
  readonly code?: ErrorCode
  readonly detail: string
  /** The path from the leaf to the anchor, as far as it was built. */
  readonly path: readonly Certificate[]
  /** One entry for each certificate below the anchor, leaf first. */
  readonly revocation: readonly RevocationStatus[]
}

const sharedCache = new WeakMap<CryptoPort, VerificationCache>()

function cacheFor(options: ChainOptions): VerificationCache {
  if (options.cache !== undefined) return options.cache
  let cache = sharedCache.get(options.crypto)
  if (cache === undefined) {
    cache = new VerificationCache()
    sharedCache.set(options.crypto, cache)
  }
  return cache
}

/** Imports a certificate's public key once per certificate object. */
export async function publicKeyOf(
  certificate: Certificate,
  crypto: CryptoPort,
  cache: VerificationCache,
): Promise<PublicKey> {
  return cache.memoPair(certificate, crypto, () => crypto.importSpki(certificate.spki))
}

/** Tells whether `signer` signed `tbs`/`signature`. A key that cannot be used gives false. */
export async function signedBy(
  item: {
    tbs: Uint8Array
    signature: Uint8Array
    signatureAlgorithm: Certificate['signatureAlgorithm']
  },
  signer: Certificate,
  crypto: CryptoPort,
  cache: VerificationCache,
): Promise<boolean> {
  return cache.memoPair(item, signer, async () => {
    if (item.signatureAlgorithm === undefined) return false
    try {
      const key = await publicKeyOf(signer, crypto, cache)
      return await crypto.verify(item.signatureAlgorithm, key, item.signature, item.tbs)
    } catch {
      // A key the port cannot import, or a signature of the wrong shape for the key, does not
      // verify: the caller reports it as a signature failure.
      return false
    }
  })
}

function isAnchor(certificate: Certificate, anchors: readonly Certificate[]): boolean {
  return anchors.some((anchor) => anchor === certificate || bytesEqual(anchor.der, certificate.der))
}

function describe(certificate: Certificate): string {
  return `"${certificate.commonName}"`
}

/** Builds the path from `leaf` to an anchor through `intermediates`, checking each signature. */
async function buildPath(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  options: ChainOptions,
  cache: VerificationCache,
): Promise<{ path: Certificate[]; failure?: { code: ErrorCode; detail: string } }> {
  const path = [leaf]
  let current = leaf
  while (!isAnchor(current, options.anchors)) {
    if (path.length >= MAX_PATH_LENGTH) {
      return {
        path,
        failure: { code: 'ERR_VERIFY_CHAIN', detail: `path is longer than ${MAX_PATH_LENGTH}` },
      }
    }
    const candidates = [...options.anchors, ...intermediates].filter(
      (c) => c !== current && !path.includes(c) && bytesEqual(c.subjectDer, current.issuerDer),
    )
    let issuer: Certificate | undefined
    for (const candidate of candidates) {
      if (await signedBy(current, candidate, options.crypto, cache)) {
        issuer = candidate
        break
      }
    }
    if (issuer === undefined) {
      if (candidates.length > 0) {
        return {
          path,
          failure: {
            code: 'ERR_VERIFY_SIGNATURE',
            detail: `signature of ${describe(current)} does not verify with the key of ${describe(candidates[0]!)}`,
          },
        }
      }
      return {
        path,
        failure: {
          code: 'ERR_VERIFY_CHAIN',
          detail: `no trusted issuer "${current.issuer}" found for ${describe(current)}`,
        },
      }
    }
    if (!issuer.isCa) {
      return {
        path,
        failure: { code: 'ERR_VERIFY_CHAIN', detail: `issuer ${describe(issuer)} is not a CA` },
      }
    }
    path.push(issuer)
    current = issuer
  }
  return { path }
}

function checkValidity(
  path: readonly Certificate[],
  at: Date,
): { code: ErrorCode; detail: string } | undefined {
  for (const certificate of path) {
    if (at < certificate.notBefore || at > certificate.notAfter) {
      return {
        code: 'ERR_VERIFY_EXPIRED',
        detail: `${describe(certificate)} is valid from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}, not at ${at.toISOString()}`,
      }
    }
  }
  return undefined
}

/** Outcome of checking a built path against CRLs. */
export interface RevocationResult {
  readonly statuses: readonly RevocationStatus[]
  readonly failure?: { readonly code: ErrorCode; readonly detail: string }
}

/**
 * Checks each certificate of a built path (leaf first, anchor last) against the CRLs of its
 * issuer: each such CRL must be signed by the issuer and current at `options.at`, and must not list
 * the certificate's serial number.
 */
export async function checkPathRevocation(
  path: readonly Certificate[],
  options: ChainOptions,
): Promise<RevocationResult> {
  return checkRevocation(path, options, cacheFor(options))
}

async function checkRevocation(
  path: readonly Certificate[],
  options: ChainOptions,
  cache: VerificationCache,
): Promise<{ statuses: RevocationStatus[]; failure?: { code: ErrorCode; detail: string } }> {
  const statuses: RevocationStatus[] = []
  for (let i = 0; i + 1 < path.length; i++) {
    const certificate = path[i]!
    const issuer = path[i + 1]!
    const crls = (options.crls ?? []).filter((crl) =>
      bytesEqual(crl.issuerDer, certificate.issuerDer),
    )
    for (const crl of crls) {
      if (!(await signedBy(crl, issuer, options.crypto, cache))) {
        return {
          statuses,
          failure: {
            code: 'ERR_VERIFY_CRL',
            detail: `CRL of "${crl.issuer}" is not signed by ${describe(issuer)}`,
          },
        }
      }
      if (
        options.at < crl.thisUpdate ||
        (crl.nextUpdate !== undefined && options.at > crl.nextUpdate)
      ) {
        return {
          statuses,
          failure: {
            code: 'ERR_COLLATERAL_EXPIRED',
            detail: `CRL of "${crl.issuer}" is valid from ${crl.thisUpdate.toISOString()} to ${crl.nextUpdate?.toISOString() ?? 'no next update'}, not at ${options.at.toISOString()}`,
          },
        }
      }
      if (crl.revokedSerials.has(certificate.serialNumber)) {
        return {
          statuses,
          failure: {
            code: 'ERR_VERIFY_REVOKED',
            detail: `${describe(certificate)} (serial ${certificate.serialNumber}) is revoked by the CRL of "${crl.issuer}"`,
          },
        }
      }
    }
    statuses.push({ subject: certificate.commonName, checked: crls.length > 0 })
  }
  return { statuses }
}

/**
 * Verifies that `leaf` chains through `intermediates` to one of `options.anchors`: each signature,
 * each issuer a CA, every certificate valid at `options.at`, none revoked by a CRL given. A CRL
 * whose issuer issued a certificate of the path must be signed by that issuer and be current at
 * `options.at`.
 *
 * Does not check key usage or name constraints, nor require a CRL: `revocation` lists which
 * certificates had one, and callers that require CRLs check it.
 */
export async function verifyChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  options: ChainOptions,
): Promise<ChainResult> {
  const cache = cacheFor(options)
  const built = await buildPath(leaf, intermediates, options, cache)
  if (built.failure !== undefined) {
    return { ok: false, ...built.failure, path: built.path, revocation: [] }
  }
  const expired = checkValidity(built.path, options.at)
  if (expired !== undefined) return { ok: false, ...expired, path: built.path, revocation: [] }

  const revocation = await checkRevocation(built.path, options, cache)
  if (revocation.failure !== undefined) {
    return { ok: false, ...revocation.failure, path: built.path, revocation: revocation.statuses }
  }
  const names = built.path.map((c) => c.commonName).join(' → ')
  return { ok: true, detail: names, path: built.path, revocation: revocation.statuses }
}
