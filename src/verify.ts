/**
 * Verification entry point for Node: detects the platform, fills in defaults (now, the
 * node:crypto adapter, a shared cache) and runs the platform's verifier.
 *
 * @module
 */
import { VerificationCache } from './core/cache.js'
import { ConfigError } from './core/errors.js'
import type { Expectation, VerifyOptions } from './core/platform.js'
import { createPlatformRegistry, type PlatformRegistry } from './core/registry.js'
import type { VerificationResult } from './core/types.js'
import { createNodeCrypto } from './crypto/node.js'
import type { CryptoPort } from './crypto/port.js'
import { defaultPlatforms } from './platforms/index.js'

export { loadCollateralDirectory } from './collateral/directory.js'
export { CollateralBundle } from './core/collateral-bundle.js'

export interface VerifyEvidenceOptions extends VerifyOptions {
  /** Platform name, such as `tdx`. Absent: detected from the bytes. */
  readonly platform?: string
  /** Platforms to choose from. Default: every platform confide ships. */
  readonly registry?: PlatformRegistry
  /** Crypto adapter. Default: node:crypto. */
  readonly crypto?: CryptoPort
  /** Cache of parsed collateral and verified signatures. Default: one shared by all calls. */
  readonly cache?: VerificationCache
}

const EXPECTATION_LABELS: Record<Expectation, { what: string; flag: string }> = {
  expectedReportData: { what: 'report data', flag: '--report-data' },
  expectedNonce: { what: 'nonce', flag: '--nonce' },
  expectedUserData: { what: 'user data', flag: '--user-data' },
}
const EXPECTATIONS = Object.keys(EXPECTATION_LABELS) as Expectation[]

let defaultRegistry: PlatformRegistry | undefined
let defaultCrypto: CryptoPort | undefined
const defaultCache = new VerificationCache()

/** Returns the registry of every platform confide ships, created on first use. */
export function platformRegistry(): PlatformRegistry {
  defaultRegistry ??= createPlatformRegistry(defaultPlatforms())
  return defaultRegistry
}

/**
 * Verifies evidence bytes: parses them with the named or detected platform, then checks the
 * chain of trust at `options.at`.
 *
 * @throws ParseError when the bytes cannot be decoded; ConfigError for an unknown platform.
 */
export async function verifyEvidence(
  bytes: Uint8Array,
  options: VerifyEvidenceOptions = {},
): Promise<VerificationResult> {
  const registry = options.registry ?? platformRegistry()
  const platform =
    options.platform === undefined ? registry.detect(bytes) : registry.get(options.platform)
  const unsupported = EXPECTATIONS.filter(
    (name) => options[name] !== undefined && !platform.expectations.includes(name),
  )
  const first = unsupported[0]
  if (first !== undefined) {
    const { what, flag } = EXPECTATION_LABELS[first]
    const message = `${platform.title} evidence has no ${what} to compare; remove ${first} (${flag} on the command line)`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const evidence = platform.parse(bytes)
  defaultCrypto ??= createNodeCrypto()
  return platform.verify(evidence, {
    ...options,
    at: options.at ?? new Date(),
    crypto: options.crypto ?? defaultCrypto,
    cache: options.cache ?? defaultCache,
  })
}
