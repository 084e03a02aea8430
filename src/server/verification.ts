/**
 * The verification step shared by `/v1/verify` and `/v1/appraise`: decode the request, obtain
 * missing collateral through the cache, verify, count, and appraise against a policy.
 *
 * @module
 */
import { signEar } from '../appraisal/ear.js'
import type { Policy } from '../appraisal/policy.js'
import type { ReferenceValue } from '../appraisal/reference-values.js'
import { appraiseSubmodules, type MaybeComposite } from '../appraisal/submodules.js'
import type { AppraisalResult } from '../appraisal/types.js'
import { fetchCollateral } from '../collateral/fetch-collateral.js'
import { fromHex } from '../core/bytes.js'
import { CollateralBundle } from '../core/collateral-bundle.js'
import { platformRegistry, type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import { type RouteContext, SERVICE_VERIFIER } from './context.js'
import { trustedKeysFor } from './trusted-keys.js'

/** The evidence fields of a request body, as validated by `EvidenceFields`. */
export interface EvidenceRequest {
  readonly evidence: string
  readonly platform?: string | undefined
  readonly collateral?: { readonly [path: string]: string } | undefined
  readonly nonce?: string | undefined
  readonly reportData?: string | undefined
}

/** Outcome of verifying and appraising one request. */
export interface Judged {
  readonly result: MaybeComposite
  readonly appraisals: Record<string, AppraisalResult>
  readonly ear: string
}

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** Returns the platform named in the request, else the one detected from the bytes. */
function platformOf(bytes: Uint8Array, given: string | undefined): string {
  return given ?? platformRegistry().detect(bytes).name
}

async function collateralFor(
  context: RouteContext,
  bytes: Uint8Array,
  request: EvidenceRequest,
): Promise<CollateralBundle | undefined> {
  const files = Object.entries(request.collateral ?? {}).map(
    ([path, text]) => [path, decodeBase64(text)] as const,
  )
  const given = files.length === 0 ? undefined : new CollateralBundle(files)
  if (context.collateral === undefined) return given
  const fetched = await fetchCollateral(bytes, {
    fetcher: context.collateral,
    ...(given === undefined ? {} : { collateral: given }),
    ...(request.platform === undefined ? {} : { platform: request.platform }),
  })
  for (const outcome of fetched.outcomes)
    context.metrics.collateralItems.inc({ origin: outcome.origin })

  return fetched.bundle
}

/** Reference values of every platform in the result, parts of composite evidence included. */
async function referenceValuesFor(
  context: RouteContext,
  result: MaybeComposite,
): Promise<ReferenceValue[]> {
  const platforms = new Set([
    result.platform,
    ...Object.values(result.submods ?? {}).map((part) => part.platform),
  ])
  const lists = await Promise.all([...platforms].map((name) => context.referenceValues.find(name)))
  return lists.flat()
}

/**
 * Verifies the request's evidence at the server's time, appraises it against `policy` with the
 * stored reference values plus `extraValues`, and signs the appraisals as an EAR. Debug mode is
 * accepted by the verification exactly when the policy accepts it.
 *
 * @throws ParseError for evidence no platform reads; ConfigError for an unknown platform or an
 *   expected value the platform has no field for.
 */
export async function judgeEvidence(
  context: RouteContext,
  request: EvidenceRequest,
  policy: Policy,
  extraValues: readonly ReferenceValue[] = [],
): Promise<Judged> {
  const bytes = decodeBase64(request.evidence)
  const at = context.now()
  const collateral = await collateralFor(context, bytes, request)
  const keys = await trustedKeysFor(platformOf(bytes, request.platform), {
    sim: context.trustedSimKeys,
    platform: context.trustedKeys,
  })
  const options: VerifyEvidenceOptions = {
    at,
    allowDebug: policy.allowDebug === true,
    ...(request.platform === undefined ? {} : { platform: request.platform }),
    ...(collateral === undefined ? {} : { collateral }),
    ...(request.nonce === undefined ? {} : { expectedNonce: fromHex(request.nonce) }),
    ...(request.reportData === undefined
      ? {}
      : { expectedReportData: fromHex(request.reportData) }),
    ...(keys.length > 0 ? { trustedKeys: keys } : {}),
  }
  const result: MaybeComposite = await verifyEvidence(bytes, options)
  context.metrics.verifications.inc({ platform: result.platform, verdict: result.verdict })
  const referenceValues = [...(await referenceValuesFor(context, result)), ...extraValues]
  const appraisals = appraiseSubmodules(result, policy, { referenceValues, at })
  const ear = await signEar(appraisals, context.signer, {
    verifier: SERVICE_VERIFIER,
    issuedAt: at,
  })

  return { result, appraisals, ear }
}
