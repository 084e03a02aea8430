/**
 * Sim attesters and RA-TLS certificates for the RA-TLS tests. Keys live in a fresh temporary
 * folder, never in the user's data folder.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Policy } from '../../src/appraisal/policy.js'
import type { Attester } from '../../src/attest/attester.js'
import { decodePem } from '../../src/core/bytes.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'
import type { VerifyRatlsOptions } from '../../src/ratls/verify.js'
import { interopRoot } from '../helpers/corpus.js'

/** Creates a sim key in a new temporary folder. */
export function newSimKey(): Promise<SimKey> {
  return loadSimKey({ path: join(mkdtempSync(join(tmpdir(), 'confide-ratls-')), 'sim-key.pem') })
}

/** Returns a sim attester. `at` backdates the evidence, and `tamper` changes its bytes. */
export function simAttester(
  key: SimKey,
  options: { at?: Date; tamper?: (evidence: Uint8Array) => Uint8Array } = {},
): Attester {
  return {
    name: 'sim',
    platform: 'sim',
    attest: async (reportData) => {
      const evidence = simEvidence(key, {
        reportData,
        ...(options.at === undefined ? {} : { at: options.at }),
      })
      return options.tamper === undefined ? evidence : options.tamper(evidence)
    },
  }
}

/** An attester that returns fixed evidence, whatever report data it is asked to bind. */
export function fixedAttester(evidence: Uint8Array): Attester {
  return { name: 'fixed', platform: 'sgx', attest: async () => evidence }
}

export const SIM_POLICY: Policy = { id: 'test:sim', allowSimulated: true }

/** Options that trust `key` for sim evidence and appraise under a policy that allows sim. */
export function simOptions(key: SimKey, extra: VerifyRatlsOptions = {}): VerifyRatlsOptions {
  return { verify: { trustedKeys: [key.publicKeySpki] }, policy: SIM_POLICY, ...extra }
}

/** Returns the DER of the first certificate in a PEM text. */
export function firstDer(pem: string): Uint8Array {
  const [block] = decodePem(pem)
  if (block === undefined) throw new Error('no PEM certificate')
  return block.der
}

/** Reads an interop RA-TLS case: its leaf certificate DER and expect.json. */
export function interopCertificate(name: string): {
  der: Uint8Array
  expect: { verification_time: string; spki_sha256: string }
} {
  const dir = join(interopRoot, 'ratls', name)
  return {
    der: firstDer(readFileSync(join(dir, 'cert.pem'), 'utf8')),
    expect: JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')),
  }
}
