/**
 * Step 7 of the demo. It reads the audit log through the admin API, which must show one release
 * and one refusal of the demo's resource, then stops the RA-TLS server and the service.
 * Node only.
 *
 * @module
 */
import {
  DEMO_RESOURCE,
  DemoStepFailure,
  type DemoValue,
  type StepReport,
  shortHex,
} from './context.js'
import type { DemoRatlsServer } from './ratls.js'
import { type DemoService, expectSuccess } from './service.js'

/** The fields of an audit record the demo shows. */
interface ResourceDecision {
  readonly decision: string
  readonly resource?: string
  readonly policyId?: string
  readonly evidenceSha256?: string
  readonly reason: string
}

function parseRecords(text: string): ResourceDecision[] {
  const body = JSON.parse(text) as { records?: unknown }
  if (!Array.isArray(body.records))
    throw new DemoStepFailure('GET /v1/admin/audit returned no records list')

  return body.records as ResourceDecision[]
}

function describe(record: ResourceDecision): string {
  const word = record.decision === 'allow' ? 'release' : 'refusal'
  const evidence =
    record.evidenceSha256 === undefined ? '' : `, evidence ${shortHex(record.evidenceSha256)}`
  return `${word.padEnd(7)} ${record.resource ?? '?'}, policy ${record.policyId ?? '(none)'}${evidence}`
}

function asData(record: ResourceDecision): DemoValue {
  return {
    decision: record.decision,
    resource: record.resource ?? null,
    policyId: record.policyId ?? null,
    evidenceSha256: record.evidenceSha256 ?? null,
    reason: record.reason,
  }
}

/** Reads the resource decisions of the audit log, checks them, then stops both servers. */
export async function auditAndStop(
  service: DemoService,
  ratls: DemoRatlsServer,
): Promise<{ value: undefined; report: StepReport }> {
  const query = `resource=${encodeURIComponent(DEMO_RESOURCE)}&action=resource&limit=100`
  const response = await service.admin('GET', `/v1/admin/audit?${query}`)
  expectSuccess('GET /v1/admin/audit', response)
  // The log lists the newest first; the demo shows them in the order they happened.
  const records = parseRecords(response.text).reverse()
  const releases = records.filter((record) => record.decision === 'allow')
  const refusals = records.filter((record) => record.decision === 'deny')
  if (releases.length !== 1 || refusals.length !== 1)
    throw new DemoStepFailure(
      `the audit log shows ${releases.length} releases and ${refusals.length} refusals of ${DEMO_RESOURCE}, not 1 and 1`,
      { records: records.map(asData) },
    )

  await ratls.stop()
  await service.stop()

  return {
    value: undefined,
    report: {
      summary: `audit log (admin API): ${releases.length} release and ${refusals.length} refusal of ${DEMO_RESOURCE}`,
      details: [...records.map(describe), 'stopped the RA-TLS server and the service'],
      data: { releases: releases.length, refusals: refusals.length, records: records.map(asData) },
    },
  }
}
