/**
 * The OCSP checks of a verified certificate path. Each certificate from `first` up to the one
 * below the anchor is queried, with the next certificate of the path as its issuer, and all the
 * responses are combined into one check.
 *
 * @module
 */

import type { CheckList } from '../../core/result.js'
import type { CryptoPort } from '../../crypto/port.js'
import type { Certificate } from '../../pki/certificate.js'
import type { OcspClient, OcspOutcome } from './ocsp-client.js'

/** CRLReason names by code (RFC 5280, §5.3.1). Code 7 is unused. */
const CRL_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
}

/** One certificate to query and the certificate that issued it. */
export interface RevocationTarget {
  readonly certificate: Certificate
  readonly issuer: Certificate
}

/** Lists the certificates of a path (leaf first, anchor last) from index `first` on, anchor excluded. */
export function revocationTargets(path: readonly Certificate[], first: number): RevocationTarget[] {
  const targets: RevocationTarget[] = []
  for (let i = first; i + 1 < path.length; i++) {
    targets.push({ certificate: path[i]!, issuer: path[i + 1]! })
  }
  return targets
}

function describe(target: RevocationTarget, outcome: OcspOutcome): string {
  const name = `"${target.certificate.commonName}"`
  switch (outcome.status) {
    case 'good':
      return `${name} good (signed by "${outcome.signer}"${outcome.cached ? ', remembered' : ''})`
    case 'revoked': {
      const reason =
        outcome.reason === undefined ? '' : `, ${CRL_REASONS[outcome.reason] ?? outcome.reason}`
      return `${name} revoked at ${outcome.revocationTime.toISOString()}${reason}`
    }
    case 'unknown':
      return `${name} has the status unknown at the responder`
    case 'rejected':
      return `${name}: ${outcome.detail}`
    case 'unavailable':
      return `${name} not checked: ${outcome.detail}`
  }
}

/**
 * Queries `client` about every target and adds one check named `name`. The check fails with
 * `ERR_VERIFY_REVOKED` when a certificate is revoked, and with `ERR_VERIFY_OCSP` when a response
 * was rejected or gives the status unknown. It is skipped when a certificate could not be checked,
 * or when there is no client (offline). It passes when every certificate is good.
 */
export async function checkRevocation(
  checks: CheckList,
  name: string,
  targets: readonly RevocationTarget[],
  client: OcspClient | undefined,
  crypto: CryptoPort,
): Promise<void> {
  if (client === undefined) {
    checks.skip(name, 'revocation was not checked: no OCSP client is configured (offline)')
    return
  }
  if (targets.length === 0) {
    checks.pass(name, 'no certificate of the path has a revocation status to check')
    return
  }
  const outcomes = await Promise.all(
    targets.map((target) => client.check(target.certificate, target.issuer, crypto)),
  )
  const lines = targets.map((target, i) => describe(target, outcomes[i]!)).join('; ')
  const statuses = new Set(outcomes.map((outcome) => outcome.status))
  if (statuses.has('revoked')) {
    checks.fail(name, 'ERR_VERIFY_REVOKED', lines)
  } else if (statuses.has('rejected') || statuses.has('unknown')) {
    checks.fail(name, 'ERR_VERIFY_OCSP', lines)
  } else if (statuses.has('unavailable')) {
    checks.skip(name, `revocation was not fully checked: ${lines}`)
  } else {
    checks.pass(name, `OCSP: ${lines}`)
  }
}
