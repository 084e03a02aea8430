/**
 * Step 4 of the demo: the demo workload runs the KBS client against the service (auth → attest
 * → resource), decrypts the secret with its TEE key, and compares its digest with the one
 * stored. Node only.
 *
 * @module
 */
import { toHex } from '../core/bytes.js'
import { KbsClientError } from '../kbs/client.js'
import { DEMO_RESOURCE, DemoStepFailure, type StepReport, sha256Hex, shortHex } from './context.js'
import type { StoredSecret } from './policy.js'
import type { DemoService } from './service.js'
import { fetchDemoSecret } from './workload.js'
import type { Workspace } from './workspace.js'

/** Fetches the secret as the workload with `measurement`; it must equal the stored one. */
export async function releaseSecret(
  service: DemoService,
  workspace: Workspace,
  stored: StoredSecret,
  measurement: Uint8Array,
): Promise<{ value: undefined; report: StepReport }> {
  const hex = toHex(measurement)
  let released: Uint8Array
  try {
    released = (await fetchDemoSecret(service.url, workspace.simKey, measurement)).bytes
  } catch (error) {
    if (!(error instanceof KbsClientError)) throw error
    throw new DemoStepFailure(
      `the workload with measurement ${hex} was rejected at the ${error.step} step: ${error.message}`,
      { measurement: hex, step: error.step, status: error.status ?? null },
    )
  }
  const digest = sha256Hex(released)
  released.fill(0)
  if (digest !== stored.secretSha256)
    throw new DemoStepFailure(
      `the released secret has SHA-256 ${digest}, not ${stored.secretSha256} as stored`,
    )

  return {
    value: undefined,
    report: {
      summary: `workload ${shortHex(hex)}: auth → attest → resource, ${DEMO_RESOURCE} released`,
      details: [`decrypted with its TEE key: SHA-256 ${digest} matches the stored secret`],
      data: { resource: DEMO_RESOURCE, measurement: hex, secretSha256: digest, matches: true },
    },
  }
}
