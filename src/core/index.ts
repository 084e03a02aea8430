/**
 * Shapes and building blocks shared by every platform. No node: imports.
 *
 * @module
 */
export { ByteReader } from './byte-reader.js'
export { bytesEqual, decodePem, encodePem, fromBase64, fromHex, toBase64, toHex } from './bytes.js'
export { VerificationCache } from './cache.js'
export { CollateralBundle } from './collateral-bundle.js'
export type { Expectation, Platform, VerifyContext, VerifyOptions } from './platform.js'
export { createPlatformRegistry, type PlatformRegistry } from './registry.js'
export { CheckList } from './result.js'
export type {
  Check,
  CheckStatus,
  Claims,
  ClaimValue,
  TcbStatus,
  Verdict,
  VerificationResult,
} from './types.js'
