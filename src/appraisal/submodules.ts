/**
 * Appraisal of evidence with several parts (a CPU TEE and its GPUs): one appraisal per part,
 * named as the EAR submodules that carry them.
 *
 * @module
 */
import type { Check, Verdict, VerificationResult } from '../core/types.js'
import { type AppraiseOptions, appraise } from './appraise.js'
import type { Policy } from './policy.js'
import type { AppraisalResult } from './types.js'

/** The submodule name of evidence with a single part, as Trustee names its first CPU. */
export const SINGLE_SUBMODULE = 'cpu0'

/** A verification result that may carry one sub-result per part, by label (`submods`). */
export type MaybeComposite = VerificationResult & {
  readonly submods?: { readonly [label: string]: VerificationResult }
}

const SEVERITY: readonly Verdict[] = ['valid', 'indeterminate', 'invalid']

/** Prefix of the composite's checks that repeat a part's verdict rather than bind the parts. */
const PART_SUMMARY_PREFIX = 'submod:'

function worse(a: Verdict, b: Verdict): Verdict {
  return SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b
}

/** Returns the verdict of the checks that bind the parts, leaving out the per-part summaries. */
function bindingVerdict(checks: readonly Check[]): Verdict {
  if (checks.some((check) => check.status === 'fail')) return 'invalid'
  if (checks.some((check) => check.status === 'skipped')) return 'indeterminate'

  return 'valid'
}

/**
 * Appraises every part of a verification result against one policy. A result without parts gives
 * one appraisal named `cpu0`. A composite result gives one per part, by its label, and each part
 * also carries the verdict and failed checks that bind the parts together (such as a nonce
 * binding), so a broken binding fails every part. The composite's `submod:<label>` checks, which
 * repeat each part's own verdict, are left out, so one part's failure stays with that part.
 *
 * @throws as `appraise` does.
 */
export function appraiseSubmodules(
  result: MaybeComposite,
  policy: Policy,
  options: AppraiseOptions = {},
): Record<string, AppraisalResult> {
  const parts = result.submods
  if (parts === undefined || Object.keys(parts).length === 0)
    return { [SINGLE_SUBMODULE]: appraise(result, policy, options) }
  const binding = result.checks.filter((check) => !check.name.startsWith(PART_SUMMARY_PREFIX))
  const verdict = bindingVerdict(binding)
  const failures = binding.filter((check) => check.status === 'fail')

  return Object.fromEntries(
    Object.entries(parts).map(([label, part]) => {
      const input = {
        ...part,
        verdict: worse(part.verdict, verdict),
        checks: [...part.checks, ...failures],
      }
      return [label, appraise(input, policy, options)]
    }),
  )
}
