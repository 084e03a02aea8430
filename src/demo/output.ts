/**
 * Step 6 of the demo: an attested output. Two parties check the workload's evidence and each
 * seal a number to its HPKE key. The workload opens both, adds them and signs the sum. The output
 * is written as a bundle file and verified offline. Node only.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Policy } from '../appraisal/policy.js'
import { encodeOutputBundle, parseOutputBundle } from '../outputs/bundle.js'
import { createOutput } from '../outputs/create.js'
import { createWorkloadIdentity, identityReportData } from '../outputs/identity.js'
import { openInput, sealInput } from '../outputs/seal.js'
import { verifyOutput, verifyWorkload } from '../outputs/verify.js'
import { DemoStepFailure, type StepReport, sha256, sha256Hex, shortHex } from './context.js'
import { workloadAttester } from './workload.js'
import type { Workspace } from './workspace.js'

/** The parties and the number each one seals to the workload. */
const PARTIES = [
  { label: 'party-a', value: 19 },
  { label: 'party-b', value: 23 },
] as const

/** Reads an opened input as the number the party sent. */
function numberOf(plaintext: Uint8Array, label: string): number {
  const value: unknown = JSON.parse(new TextDecoder().decode(plaintext))
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new DemoStepFailure(`the input of ${label} is not a number`)

  return value
}

/** Runs the parties and the workload, writes the bundle, and verifies it from the file. */
export async function runAttestedOutput(
  workspace: Workspace,
  measurement: Uint8Array,
  policy: Policy,
): Promise<{ value: undefined; report: StepReport }> {
  const verify = { trustedKeys: [workspace.simKey.publicKeySpki] }

  // 1. The workload makes its keys and attests to them.
  const identity = await createWorkloadIdentity()
  const attester = workloadAttester(workspace.simKey, measurement)
  const evidence = await attester.attest(identityReportData(identity))
  const workload = { publicKeys: identity.publicKeys, evidence }

  // 2. Each party checks the workload under the policy before sealing its number to it.
  const judged = await verifyWorkload(workload, { verify, policy })
  if (judged.verdict !== 'valid') {
    const failed = judged.checks.filter((check) => check.status !== 'pass')
    const reasons = failed.map((check) => `${check.name}: ${check.detail}`).join('; ')
    throw new DemoStepFailure(`the parties reject the workload: ${reasons}`)
  }
  const sealed: { label: string; bytes: Uint8Array }[] = []
  for (const party of PARTIES) {
    const plaintext = new TextEncoder().encode(JSON.stringify(party.value))
    const bytes = await sealInput(identity.publicKeys, plaintext, { label: party.label })
    await writeFile(join(workspace.folder, `${party.label}.sealed.json`), bytes)
    sealed.push({ label: party.label, bytes })
  }

  // 3. The workload opens the inputs, adds them and signs the result.
  const opened = await Promise.all(
    sealed.map((input) => openInput(identity, input.bytes, { label: input.label })),
  )
  const sum = opened.reduce((total, input) => total + numberOf(input.plaintext, input.label), 0)
  const bundle = await createOutput(
    { identity, evidence, result: { json: { operation: 'sum', value: sum } }, inputs: opened },
    { verify },
  )
  const bundlePath = join(workspace.folder, 'output.json')
  await writeFile(bundlePath, encodeOutputBundle(bundle))

  // 4. Anyone verifies the file offline, here with the digests of both sealed inputs.
  const result = await verifyOutput(parseOutputBundle(await readFile(bundlePath)), {
    verify,
    policy,
    expectedInputDigest: sealed.map((input) => sha256(input.bytes)),
  })
  const digests = sealed.map((input) => sha256Hex(input.bytes))
  const checks = result.checks.map((check) => `${check.name} ${check.status}`)
  if (result.verdict !== 'valid')
    throw new DemoStepFailure(
      `verifyOutput judged the bundle ${result.verdict}: ${checks.join(', ')}`,
    )

  return {
    value: undefined,
    report: {
      summary: `2 parties sealed inputs (HPKE) to workload ${shortHex(result.document.code.measurement)}; it signed their sum, ${sum}`,
      details: [
        ...digests.map((digest, index) => `input ${sealed[index]?.label} SHA-256 ${digest}`),
        `verifyOutput ${result.verdict}: ${checks.join(', ')}`,
        `bundle ${bundlePath}`,
      ],
      data: {
        result: sum,
        measurement: result.document.code.measurement,
        inputs: digests,
        checks: result.checks.map((check) => ({ name: check.name, status: check.status })),
        verdict: result.verdict,
        bundle: bundlePath,
      },
    },
  }
}
