/**
 * The platform list. Adding a TEE means adding its folder and one line here.
 *
 * @module
 */
import type { Platform } from '../core/platform.js'
import { ccaPlatform } from './cca/index.js'
import { compositePlatform } from './composite/index.js'
import { sgxPlatform, tdxPlatform } from './dcap/index.js'
import { nitroPlatform } from './nitro/index.js'
import { nvidiaPlatform } from './nvidia/index.js'
import { samplePlatform, simPlatform } from './sim/platform.js'
import { snpPlatform } from './snp/index.js'
import { tpmPlatform } from './tpm/index.js'

/** Creates the platforms confide ships, in detection order. */
export function defaultPlatforms(): Platform[] {
  return [
    sgxPlatform(),
    tdxPlatform(),
    nitroPlatform(),
    snpPlatform(),
    nvidiaPlatform(),
    tpmPlatform(),
    ccaPlatform(),
    compositePlatform(),
    simPlatform(),
    samplePlatform(),
    // New platforms go here, one line each.
  ]
}
