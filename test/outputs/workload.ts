/**
 * A simulated workload for the attested-output tests: a sim key in a temporary folder, a workload
 * identity, and sim evidence whose report data binds it.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createWorkloadIdentity,
  identityReportData,
  type WorkloadIdentity,
  type WorkloadIdentityOptions,
} from '../../src/outputs/index.js'
import { simEvidence } from '../../src/platforms/sim/attester.js'
import { loadSimKey, type SimKey } from '../../src/platforms/sim/dev-key.js'

/** The instant evidence is made at; verification runs one hour later. */
export const MADE_AT = new Date('2026-12-04T18:00:00.000Z')
export const VERIFY_AT = new Date('2026-12-04T19:00:00.000Z')

export interface SimWorkload {
  readonly key: SimKey
  readonly identity: WorkloadIdentity
  readonly evidence: Uint8Array
  readonly folder: string
}

/** Creates a sim key in a fresh temporary folder. */
export async function freshSimKey(): Promise<{ key: SimKey; folder: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'confide-outputs-'))
  const key = await loadSimKey({ path: join(folder, 'sim-key.pem'), env: {} })

  return { key, folder }
}

/** Creates a workload identity and sim evidence that binds it. */
export async function simWorkload(
  options: WorkloadIdentityOptions & { mrTd?: Uint8Array } = {},
): Promise<SimWorkload> {
  const { key, folder } = await freshSimKey()
  const identity = await createWorkloadIdentity(options)
  const evidence = simEvidence(key, {
    reportData: identityReportData(identity),
    at: MADE_AT,
    ...(options.mrTd === undefined ? {} : { mrTd: options.mrTd }),
  })

  return { key, identity, evidence, folder }
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Rewrites the body of sim evidence, keeping its signature. */
export function tamperSimBody(
  evidence: Uint8Array,
  change: (body: Record<string, unknown>) => void,
): Uint8Array {
  const envelope = JSON.parse(new TextDecoder().decode(evidence)) as Record<string, string>
  const body = JSON.parse(Buffer.from(envelope.body ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
  change(body)
  envelope.body = Buffer.from(JSON.stringify(body)).toString('base64url')

  return new TextEncoder().encode(JSON.stringify(envelope))
}
