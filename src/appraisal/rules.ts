/**
 * Policy rules in CEL (Common Expression Language), evaluated with @bufbuild/cel over the
 * normalized claims.
 *
 * @see https://github.com/google/cel-spec/blob/master/doc/langdef.md (the language)
 * @module
 */
import { type CelInput, type CelResult, celEnv, isCelError, parse, plan } from '@bufbuild/cel'
import type { ClaimValue } from '../core/types.js'

/** The variables a rule reads. */
export interface RuleBindings {
  readonly claims: ClaimValue
  /** The TCB status, or null when the evidence has none. */
  readonly tcbStatus: string | null
  readonly advisories: readonly string[]
}

/** A rule ready to run, or the reason it cannot be compiled. */
export interface CompiledRule {
  readonly run?: (bindings: RuleBindings) => CelResult
  readonly error?: string
}

/** The outcome of one rule on one set of claims. */
export interface RuleOutcome {
  readonly status: 'pass' | 'fail' | 'not-checked'
  readonly detail: string
}

/** Errors that mean a claim the rule reads is absent: the rule cannot be judged. */
const MISSING_DATA = /^(field not found|no such key|index -?\d+ out of bounds)/

const environment = celEnv()

/** Parses and plans an expression, returning a syntax error as `error` instead of throwing it. */
export function compileRule(expression: string): CompiledRule {
  try {
    const evaluate = plan(environment, parse(expression))
    return { run: (bindings) => evaluate(bindings as unknown as Record<string, CelInput>) }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * Runs a rule: true passes, false fails. A rule that reads a claim the evidence lacks is
 * not-checked, never passed. Any other error, or a result that is not a boolean, fails, because
 * it means the rule is wrong for this evidence.
 */
export function evaluateRule(expression: string, bindings: RuleBindings): RuleOutcome {
  const compiled = compileRule(expression)
  if (compiled.run === undefined) {
    return { status: 'fail', detail: `the expression does not compile: ${compiled.error}` }
  }
  const result = compiled.run(bindings)
  if (isCelError(result)) {
    if (MISSING_DATA.test(result.message)) {
      return {
        status: 'not-checked',
        detail: `a claim the rule reads is missing: ${result.message}`,
      }
    }
    return { status: 'fail', detail: `the expression failed: ${result.message}` }
  }
  if (result === true) return { status: 'pass', detail: `${expression} is true` }
  if (result === false) return { status: 'fail', detail: `${expression} is false` }

  return { status: 'fail', detail: `${expression} returned ${String(result)}, not a boolean` }
}
