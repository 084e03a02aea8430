/**
 * The platform list. Adding a TEE means adding its folder and one line here.
 *
 * @module
 */
import type { Platform } from '../core/platform.js'

/** Creates the platforms confide ships, in detection order. */
export function defaultPlatforms(): Platform[] {
  return [
    // New platforms go here, one line each.
  ]
}
