/**
 * The platform list. Adding a TEE means adding its folder and one line here.
 *
 * @module
 */
import type { Platform } from '../core/platform.js'
import { sgxPlatform, tdxPlatform } from './dcap/index.js'
import { nitroPlatform } from './nitro/index.js'
import { snpPlatform } from './snp/index.js'

/** Creates the platforms confide ships, in detection order. */
export function defaultPlatforms(): Platform[] {
  return [
    sgxPlatform(),
    tdxPlatform(),
    nitroPlatform(),
    snpPlatform(),
    // New platforms go here, one line each.
  ]
}
