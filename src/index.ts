/**
 * confide: remote attestation for confidential computing. This entry point is for Node; the
 * parts under `confide/core`, `confide/pki` and `confide/platforms/*` import no node: module.
 *
 * @module
 */
export { loadCollateralDirectory } from './collateral/directory.js'
export { ByteReader } from './core/byte-reader.js'
export { VerificationCache } from './core/cache.js'
export { CollateralBundle } from './core/collateral-bundle.js'
export {
  CollateralError,
  ConfideError,
  ConfigError,
  ERROR_CODES,
  type ErrorCode,
  isConfideError,
  ParseError,
  PolicyError,
  VerificationError,
} from './core/errors.js'
export type { Expectation, Platform, VerifyContext, VerifyOptions } from './core/platform.js'
export { createPlatformRegistry, type PlatformRegistry } from './core/registry.js'
export type {
  Check,
  CheckStatus,
  Claims,
  ClaimValue,
  TcbStatus,
  Verdict,
  VerificationResult,
} from './core/types.js'
export { createNodeCrypto } from './crypto/node.js'
export type { CryptoPort } from './crypto/port.js'
export { sgxPlatform, tdxPlatform } from './platforms/dcap/index.js'
export { defaultPlatforms } from './platforms/index.js'
export { nitroPlatform } from './platforms/nitro/index.js'
export { snpPlatform } from './platforms/snp/index.js'
export { platformRegistry, type VerifyEvidenceOptions, verifyEvidence } from './verify.js'
