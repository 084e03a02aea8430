/**
 * Reads the NVIDIA files of a collateral bundle: the device certificate chain and the RIMs. Each
 * decoded file is remembered in the verification cache by the bundle's bytes, so a bundle reused
 * across verifications is decoded once.
 *
 * @module
 */

import { decodePem } from '../../core/bytes.js'
import type { VerificationCache } from '../../core/cache.js'
import type { CollateralBundle } from '../../core/collateral-bundle.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'
import { NVIDIA_CHAIN_FILES, NVIDIA_RIM_FILE_PATTERN } from './collateral.js'
import { type NvidiaRim, parseNvidiaRim } from './rim.js'

/** The device chain as given, leaf first, and the file it came from. */
export interface DeviceChain {
  readonly file: string
  readonly certificates: readonly Certificate[]
}

/** A RIM and the bundle file it came from. */
export interface RimFile {
  readonly file: string
  readonly rim: NvidiaRim
}

// Tags for memoPair: a chain or a RIM decoded from a bundle file's bytes.
const DECODED_CHAIN = {}
const DECODED_RIM = {}

/**
 * Returns the device chain of the bundle, or undefined when it has none.
 *
 * @throws ParseError `ERR_PARSE_CERTIFICATE` for a certificate that cannot be decoded, or
 *   `ERR_PARSE_MALFORMED` for PEM whose base64 is broken.
 */
export async function loadDeviceChain(
  collateral: CollateralBundle | undefined,
  cache: VerificationCache,
): Promise<DeviceChain | undefined> {
  for (const file of NVIDIA_CHAIN_FILES) {
    const bytes = collateral?.get(file)
    if (bytes === undefined) continue
    const certificates = await cache.memoPair(bytes, DECODED_CHAIN, () =>
      decodePem(new TextDecoder().decode(bytes))
        .filter((block) => block.label === 'CERTIFICATE')
        .map((block) => parseCertificate(block.der)),
    )
    return { file, certificates }
  }
  return undefined
}

/**
 * Returns every RIM of the bundle (files named `*.swidtag` or `*.xml`), sorted by file name.
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` or `ERR_PARSE_OVERSIZED` for a file that is not a
 *   RIM confide can read.
 */
export async function loadRims(
  collateral: CollateralBundle | undefined,
  cache: VerificationCache,
): Promise<RimFile[]> {
  if (collateral === undefined) return []
  const files = collateral.find(NVIDIA_RIM_FILE_PATTERN).sort()
  const rims: RimFile[] = []
  for (const file of files) {
    const bytes = collateral.get(file)
    if (bytes === undefined) continue
    rims.push({ file, rim: await cache.memoPair(bytes, DECODED_RIM, () => parseNvidiaRim(bytes)) })
  }
  return rims
}
