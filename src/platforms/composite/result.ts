/**
 * The result of evidence made of several parts, each verified on its own: a CPU TEE and its GPUs,
 * or an Azure vTPM quote and the hardware report that binds it.
 *
 * @module
 */
import type { VerificationResult } from '../../core/types.js'

/**
 * A verification result with one sub-result per part, by label, as EAR names them (`submods`).
 * The top-level checks summarize each part's verdict and add the checks that bind the parts.
 */
export interface CompositeVerificationResult extends VerificationResult {
  readonly submods: { readonly [label: string]: VerificationResult }
}

/** Tells whether a result carries sub-results. */
export function hasSubmods(result: VerificationResult): result is CompositeVerificationResult {
  const submods = (result as { submods?: unknown }).submods
  return typeof submods === 'object' && submods !== null
}
