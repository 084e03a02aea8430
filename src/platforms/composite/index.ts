/**
 * Composite evidence: several pieces of evidence verified as one, such as a CPU TEE's quote and a
 * report per GPU, in a CMW collection (see format.ts). Each component is verified by the platform
 * its media type names, so a new platform takes part without a change here.
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { defaultPlatforms } from '../index.js'
import { type CompositeEvidence, parseCompositeEvidence, sniffCompositeEvidence } from './format.js'
import { verifyCompositeComponents } from './verify.js'

/** Options of the composite platform. */
export interface CompositePlatformOptions {
  /**
   * Returns the platforms components may name or be detected as, called once on first use.
   * Default: every platform confide ships, except this one.
   */
  readonly platforms?: () => readonly Platform[]
  /** Fail when the CPU's report data does not bind the device nonces. Default: false. */
  readonly requireNonceBinding?: boolean
}

/** Creates the composite platform. */
export function compositePlatform(
  options: CompositePlatformOptions = {},
): Platform<CompositeEvidence> {
  let platforms: readonly Platform[] | undefined
  const members = () => {
    platforms ??= options.platforms?.() ?? defaultPlatforms().filter((p) => p.name !== 'composite')
    return platforms
  }
  return {
    name: 'composite',
    title: 'Composite',
    expectations: ['expectedReportData', 'expectedNonce', 'expectedUserData'],
    sniff: sniffCompositeEvidence,
    parse: parseCompositeEvidence,
    verify: (evidence, context) =>
      verifyCompositeComponents(evidence.components, context, {
        platforms: members(),
        ...(options.requireNonceBinding === undefined
          ? {}
          : { requireNonceBinding: options.requireNonceBinding }),
      }),
  }
}

export {
  CMW_COLLECTION_TYPE_KEY,
  CMW_INDICATOR,
  type CompositeComponent,
  type CompositeComponentInput,
  type CompositeEvidence,
  DETECTED_MEDIA_TYPE,
  encodeCompositeEvidence,
  PLATFORM_MEDIA_TYPE_PREFIX,
  parseCompositeEvidence,
  sniffCompositeEvidence,
} from './format.js'
export { type CompositeVerificationResult, hasSubmods } from './result.js'
export {
  type CompositeVerifyOptions,
  findNonceBinding,
  type NonceBinding,
  nonceBindingInput,
  verifyCompositeComponents,
} from './verify.js'
