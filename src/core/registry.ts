/**
 * The set of platforms a verifier can judge, built explicitly by the caller. Nothing registers itself
 * at import time.
 *
 * @module
 */
import { ConfigError, ParseError } from './errors.js'
import type { Platform } from './platform.js'

/** Platforms by name, with detection from bytes. */
export interface PlatformRegistry {
  readonly platforms: readonly Platform[]
  /** Returns the platform with this name. @throws ConfigError `ERR_CONFIG_UNKNOWN_PLATFORM` */
  get(name: string): Platform
  /** Returns the platform whose sniff accepts the bytes. @throws ParseError `ERR_PARSE_UNKNOWN_FORMAT` */
  detect(bytes: Uint8Array): Platform
}

/** Creates a registry of the given platforms; their names must be unique. */
export function createPlatformRegistry(platforms: readonly Platform[]): PlatformRegistry {
  const byName = new Map<string, Platform>()
  for (const platform of platforms) {
    if (byName.has(platform.name)) {
      throw new ConfigError('ERR_CONFIG_INVALID', `platform "${platform.name}" is registered twice`)
    }
    byName.set(platform.name, platform)
  }
  return {
    platforms: [...platforms],
    get(name) {
      const platform = byName.get(name)
      if (platform === undefined) {
        const known = [...byName.keys()].join(', ')
        throw new ConfigError(
          'ERR_CONFIG_UNKNOWN_PLATFORM',
          `unknown platform "${name}" (known: ${known})`,
        )
      }
      return platform
    },
    detect(bytes) {
      const platform = platforms.find((p) => p.sniff(bytes))
      if (platform === undefined) {
        throw new ParseError(
          'ERR_PARSE_UNKNOWN_FORMAT',
          `no platform recognizes this input (${bytes.length} bytes); name one with --platform`,
          { structure: 'Evidence', offset: 0 },
        )
      }
      return platform
    },
  }
}
