/**
 * The checks of a GPU report against its device certificate chain: the SPDM signature, the chain
 * to the Device Identity CA, the FWID of the signing certificate, and the expected nonce.
 *
 * @module
 */
import { bytesEqual, toHex } from '../../core/bytes.js'
import { ConfigError } from '../../core/errors.js'
import type { VerifyContext } from '../../core/platform.js'
import type { CheckList } from '../../core/result.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { type ChainResult, publicKeyOf, verifyChain } from '../../pki/chain.js'
import { pinnedDeviceRoot } from './anchors.js'
import type { DeviceChain } from './bundle.js'
import type { NvidiaReport } from './format.js'
import { certificateFwids, TCG_DICE_FWID_OID } from './fwid.js'
import { NONCE_SIZE } from './layout.js'

/** Names of the checks, in the order they run. */
export const NVIDIA_CHECKS = {
  signature: 'spdm-signature',
  chain: 'device-chain',
  fwid: 'fwid',
  nonce: 'nonce',
  deviceRevocation: 'device-ocsp',
  driverRim: 'driver-rim',
  vbiosRim: 'vbios-rim',
  rimRevocation: 'rim-ocsp',
  measurements: 'measurements',
} as const

function shortHex(bytes: Uint8Array): string {
  const hex = toHex(bytes)
  return hex.length > 16 ? `${hex.slice(0, 16)}...` : hex
}

/** Checks the ECDSA P-384/SHA-384 signature over request ‖ response-without-signature. */
export async function checkSpdmSignature(
  checks: CheckList,
  report: NvidiaReport,
  chain: DeviceChain | undefined,
  context: VerifyContext,
): Promise<void> {
  const name = NVIDIA_CHECKS.signature
  const leaf = chain?.certificates[0]
  if (leaf === undefined) {
    checks.skip(name, 'needs the device certificate chain (cert_chain.pem)')
    return
  }
  const key = await publicKeyOf(leaf, context.crypto, context.cache)
  const holder = `the key of "${leaf.commonName}"`
  if (key.algorithm !== 'EC' || key.curve !== 'P-384') {
    checks.fail(name, 'ERR_VERIFY_SIGNATURE', `${holder} is not an ECDSA P-384 key`)
    return
  }
  const valid = await context.crypto.verify(
    { name: 'ECDSA', hash: 'SHA-384' },
    key,
    report.response.signature,
    report.signedBytes,
  )
  const covered = `the ${report.signedBytes.length} bytes of request and response before the signature`
  if (valid) {
    checks.pass(name, `ECDSA P-384/SHA-384 over ${covered} verifies with ${holder}`)
  } else {
    checks.fail(
      name,
      'ERR_VERIFY_SIGNATURE',
      `ECDSA P-384/SHA-384 signature does not verify with ${holder}`,
    )
  }
}

// Tag for memoPair: a trust anchor decoded from the DER bytes a caller passed.
const PARSED_ANCHOR = {}

/** Returns `context.trustAnchors` decoded, or the pinned Device Identity CA. */
export async function deviceAnchors(context: VerifyContext): Promise<readonly Certificate[]> {
  if (context.trustAnchors === undefined) return [pinnedDeviceRoot()]

  return Promise.all(
    context.trustAnchors.map((der) =>
      context.cache.memoPair(der, PARSED_ANCHOR, () => parseCertificate(der)),
    ),
  )
}

/**
 * Checks the device chain from its first certificate to the Device Identity CA (or
 * `context.trustAnchors`) at `context.at`. A chain that contains only the root has no signing
 * certificate and fails. Returns the chain result when the path was built.
 */
export async function checkDeviceChain(
  checks: CheckList,
  chain: DeviceChain | undefined,
  context: VerifyContext,
): Promise<ChainResult | undefined> {
  const name = NVIDIA_CHECKS.chain
  const [leaf, ...rest] = chain?.certificates ?? []
  if (chain === undefined || leaf === undefined) {
    checks.skip(name, 'needs the device certificate chain (cert_chain.pem)')
    return undefined
  }
  const anchors = await deviceAnchors(context)
  if (anchors.some((anchor) => bytesEqual(anchor.der, leaf.der))) {
    const detail = `${chain.file} starts with the root "${leaf.commonName}": the signing certificate and its issuers are missing`
    checks.fail(name, 'ERR_VERIFY_CHAIN', detail)
    return undefined
  }
  const result = await verifyChain(leaf, rest, {
    at: context.at,
    anchors,
    crypto: context.crypto,
    cache: context.cache,
  })
  if (!result.ok) {
    const given = chain.certificates.map((c) => `"${c.commonName}"`).join(', ')
    checks.fail(name, result.code ?? 'ERR_VERIFY_CHAIN', `${result.detail} (given: ${given})`)
    return undefined
  }
  checks.pass(name, `${result.detail}, valid at ${context.at.toISOString()}`)

  return result
}

/**
 * Checks that the signing certificate carries an FWID (extension 2.23.133.5.4.1) and, when the
 * report's opaque data has an FWID, that the two are equal.
 */
export function checkFwid(
  checks: CheckList,
  report: NvidiaReport,
  chain: DeviceChain | undefined,
): void {
  const name = NVIDIA_CHECKS.fwid
  const leaf = chain?.certificates[0]
  if (leaf === undefined) {
    checks.skip(name, 'needs the device certificate chain (cert_chain.pem)')
    return
  }
  const fwids = certificateFwids(leaf)
  if (fwids === undefined || fwids.length === 0) {
    const detail = `the signing certificate "${leaf.commonName}" has no FWID extension (${TCG_DICE_FWID_OID})`
    checks.fail(name, 'ERR_VERIFY_IDENTITY', detail)
    return
  }
  const reported = report.response.opaqueData.fwid
  if (reported === undefined) {
    checks.pass(
      name,
      `"${leaf.commonName}" carries FWID ${shortHex(fwids[0]!.digest)}; the report has no FWID to compare`,
    )
    return
  }
  if (fwids.some((fwid) => bytesEqual(fwid.digest, reported))) {
    checks.pass(
      name,
      `the report's FWID ${shortHex(reported)} equals the FWID of "${leaf.commonName}"`,
    )
  } else {
    const detail = `the report's FWID ${shortHex(reported)} differs from the FWID of "${leaf.commonName}" (${shortHex(fwids[0]!.digest)})`
    checks.fail(name, 'ERR_VERIFY_IDENTITY', detail)
  }
}

/**
 * Compares the request's nonce with `expected`, when given.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when `expected` is not 32 bytes.
 */
export function checkNonce(
  checks: CheckList,
  report: NvidiaReport,
  expected: Uint8Array | undefined,
): void {
  if (expected === undefined) return
  if (expected.length !== NONCE_SIZE) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `the expected nonce is ${expected.length} bytes, but an SPDM nonce is ${NONCE_SIZE}: pass the ${NONCE_SIZE} bytes sent in GET_MEASUREMENTS`,
    )
  }
  const name = NVIDIA_CHECKS.nonce
  const actual = report.request.nonce
  if (bytesEqual(actual, expected)) {
    checks.pass(name, `the request nonce equals the expected ${shortHex(expected)}`)
  } else {
    checks.fail(
      name,
      'ERR_VERIFY_BINDING',
      `the request nonce ${shortHex(actual)} is not the expected ${shortHex(expected)}`,
    )
  }
}
