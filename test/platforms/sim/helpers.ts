/**
 * Keys and evidence for the simulated TEE tests. Keys live in a fresh temporary folder, never
 * in the user's data folder.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VerificationCache } from '../../../src/core/cache.js'
import type { VerifyContext, VerifyOptions } from '../../../src/core/platform.js'
import { createNodeCrypto } from '../../../src/crypto/node.js'
import { loadSimKey, type SimKey } from '../../../src/platforms/sim/dev-key.js'

export const crypto = createNodeCrypto()
export const at = new Date('2026-12-04T18:00:00.000Z')

/** Returns a new temporary folder. */
export function scratchFolder(): string {
  return mkdtempSync(join(tmpdir(), 'confide-sim-'))
}

/** Creates a sim key in a new temporary folder. */
export function newSimKey(): Promise<SimKey> {
  return loadSimKey({ path: join(scratchFolder(), 'sim-key.pem') })
}

/** Builds a verification context at `at` with the given options. */
export function contextWith(options: VerifyOptions = {}): VerifyContext {
  return { at, crypto, cache: new VerificationCache(), ...options }
}
