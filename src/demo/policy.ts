/**
 * Step 3 of the demo. As admin, through the HTTP API, it stores a secret and a resource policy
 * that names the demo workload's measurement. Then it shows that a workload with another
 * measurement is refused. Node only.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Policy } from '../appraisal/policy.js'
import { toHex } from '../core/bytes.js'
import { KbsClientError } from '../kbs/client.js'
import {
  DEMO_RESOURCE,
  DemoStepFailure,
  demoPolicy,
  type StepReport,
  sha256Hex,
  shortHex,
} from './context.js'
import { type DemoService, expectSuccess } from './service.js'
import { fetchDemoSecret } from './workload.js'
import type { Workspace } from './workspace.js'

/** The result of step 3: the secret's digest (the secret itself is not kept) and the policy. */
export interface StoredSecret {
  readonly secretSha256: string
  readonly policy: Policy
}

/** The measurements of step 3: the one the policy names, and the workload that must be refused. */
export interface PolicyMeasurements {
  readonly policy: Uint8Array
  readonly other: Uint8Array
}

/** Returns the refusal of a KBS exchange, or throws a step failure when the exchange succeeded. */
async function refusal(
  service: DemoService,
  workspace: Workspace,
  measurement: Uint8Array,
): Promise<KbsClientError> {
  try {
    const released = await fetchDemoSecret(service.url, workspace.simKey, measurement)
    throw new DemoStepFailure(
      `a workload with measurement ${toHex(measurement)} received the secret, which the policy should refuse`,
      { receivedSha256: sha256Hex(released.bytes) },
    )
  } catch (error) {
    if (error instanceof KbsClientError) return error
    throw error
  }
}

/** Stores the secret and the policy, then tries the exchange as the other workload. */
export async function storeSecretAndPolicy(
  service: DemoService,
  workspace: Workspace,
  measurements: PolicyMeasurements,
): Promise<{ value: StoredSecret; report: StepReport }> {
  const secret = new Uint8Array(randomBytes(32))
  const secretSha256 = sha256Hex(secret)
  expectSuccess(
    `POST /kbs/v0/resource/${DEMO_RESOURCE}`,
    await service.admin('POST', `/kbs/v0/resource/${DEMO_RESOURCE}`, secret),
  )
  secret.fill(0)
  const policy = demoPolicy(measurements.policy)
  const policyJson = `${JSON.stringify(policy, null, 2)}\n`
  // Kept with the folder for `confide verify-output --policy` and `confide appraise`.
  await writeFile(join(workspace.folder, 'policy.json'), policyJson)
  const policyText = Buffer.from(policyJson).toString('base64')
  expectSuccess(
    'POST /kbs/v0/resource-policy',
    await service.admin('POST', '/kbs/v0/resource-policy', {
      policy: policyText,
      resource: DEMO_RESOURCE,
    }),
  )

  // The refusal must come from the policy at release (403), not from an earlier step.
  const refused = await refusal(service, workspace, measurements.other)
  const reason = refused.detail ?? refused.message
  if (refused.step !== 'resource' || refused.status !== 403)
    throw new DemoStepFailure(
      `the other workload was rejected at the ${refused.step} step, not by the resource policy: ${refused.message}`,
    )

  const measurement = toHex(measurements.policy)
  const other = toHex(measurements.other)
  return {
    value: { secretSha256, policy },
    report: {
      summary: `stored secret ${DEMO_RESOURCE} and policy ${policy.id} through the admin API`,
      details: [
        `secret SHA-256 ${secretSha256}`,
        `policy: platform sim (simulated allowed), measurement ${measurement}`,
        `workload ${shortHex(other)}: refused, HTTP ${refused.status} ${refused.problemType ?? ''}: ${reason}`,
      ],
      data: {
        resource: DEMO_RESOURCE,
        secretSha256,
        policyId: policy.id,
        measurement,
        refused: {
          measurement: other,
          status: refused.status,
          problemType: refused.problemType ?? null,
          reason,
        },
      },
    },
  }
}
