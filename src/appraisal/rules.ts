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

/** Maximum length of a rule, in characters. Long hex constants fit. */
export const MAX_RULE_LENGTH = 8192

/**
 * Limits on the shape of a rule. @bufbuild/cel has no evaluation budget, so the work one rule can
 * ask for is bounded before it runs: how deeply it iterates, how long the lists it spells out
 * are, and how often it concatenates. NOTE: these bound the patterns measured (nested
 * comprehensions, `in` over built lists, list equality). A rule that iterates twice over a long
 * claim list still costs that list's length squared.
 */
export const RULE_LIMITS = {
  /**
   * Nesting of iterations: comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`) and
   * `in`, which walks its list. Each level multiplies the work by the length of a list.
   */
  depth: 2,
  /** Items in all the lists a rule spells out, together. */
  listItems: 64,
  /** Uses of `+`, which can build a long list out of short ones. */
  additions: 8,
} as const

/** The shape of a parsed expression that the limits read. */
interface Shape {
  /** Deepest nesting of iterations. */
  depth: number
  /** Items of every list literal, added up. */
  listItems: number
  /** Number of `+` operations. */
  additions: number
}

/** Returns the iteration nesting, list literal items and additions of a parsed expression. */
function shapeOf(node: unknown): Shape {
  const shape: Shape = { depth: 0, listItems: 0, additions: 0 }
  if (typeof node !== 'object' || node === null) return shape
  for (const [key, value] of Object.entries(node)) {
    if (key === '$typeName') continue
    if (key === 'elements' && Array.isArray(value)) shape.listItems += value.length
    const children = Array.isArray(value) ? value : [value]
    for (const child of children) {
      const inner = shapeOf(child)
      shape.depth = Math.max(shape.depth, inner.depth)
      shape.listItems += inner.listItems
      shape.additions += inner.additions
    }
  }
  const kind = (node as { exprKind?: { case?: string; value?: { function?: string } } }).exprKind
  const iterates =
    kind?.case === 'comprehensionExpr' ||
    (kind?.case === 'callExpr' && kind.value?.function === '@in')
  if (iterates) shape.depth += 1
  if (kind?.case === 'callExpr' && kind.value?.function === '_+_') shape.additions += 1

  return shape
}

/** Returns why a parsed rule is over a limit of `RULE_LIMITS`, or undefined. */
function overLimit(shape: Shape): string | undefined {
  if (shape.depth > RULE_LIMITS.depth)
    return `the rule nests ${shape.depth} iterations (all, exists, exists_one, map, filter, in), over the maximum of ${RULE_LIMITS.depth}`
  if (shape.listItems > RULE_LIMITS.listItems)
    return `the rule spells out lists of ${shape.listItems} items in all, over the maximum of ${RULE_LIMITS.listItems}`
  if (shape.additions > RULE_LIMITS.additions)
    return `the rule uses + ${shape.additions} times, over the maximum of ${RULE_LIMITS.additions}`

  return undefined
}

/**
 * Parses and plans an expression, returning a syntax error, or a rule over the length or nesting
 * limit, as `error` instead of throwing it.
 */
export function compileRule(expression: string): CompiledRule {
  if (expression.length > MAX_RULE_LENGTH)
    return {
      error: `the rule has ${expression.length} characters, over the maximum of ${MAX_RULE_LENGTH}`,
    }
  try {
    const parsed = parse(expression)
    const problem = overLimit(shapeOf(parsed.expr))
    if (problem !== undefined) return { error: problem }
    const evaluate = plan(environment, parsed)
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
