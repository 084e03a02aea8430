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
 * Maximum number of items in a list a rule spells out. With the nesting limit below it bounds the
 * work one rule can ask for, since @bufbuild/cel has no evaluation cost limit of its own.
 */
export const MAX_LIST_ITEMS = 256

/**
 * Maximum nesting of comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`). Each level
 * multiplies the work by the length of a list: six levels over a list of 20 items ran for
 * seconds, while two levels over the longest list a rule can spell out take 65,536 steps.
 */
export const MAX_COMPREHENSION_DEPTH = 2

/** The shape of a parsed expression that the limits read. */
interface Shape {
  /** Deepest nesting of comprehensions. */
  readonly depth: number
  /** Maximum number of items in one list literal. */
  readonly listItems: number
}

/** Returns the nesting of comprehensions and the longest list literal of a parsed expression. */
function shapeOf(node: unknown): Shape {
  if (typeof node !== 'object' || node === null) return { depth: 0, listItems: 0 }
  let depth = 0
  let listItems = 0
  for (const [key, value] of Object.entries(node)) {
    if (key === '$typeName') continue
    if (key === 'elements' && Array.isArray(value)) listItems = Math.max(listItems, value.length)
    const children = Array.isArray(value) ? value : [value]
    for (const child of children) {
      const shape = shapeOf(child)
      depth = Math.max(depth, shape.depth)
      listItems = Math.max(listItems, shape.listItems)
    }
  }
  const kind = (node as { exprKind?: { case?: string } }).exprKind?.case

  return { depth: kind === 'comprehensionExpr' ? depth + 1 : depth, listItems }
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
    const { depth, listItems } = shapeOf(parsed.expr)
    if (depth > MAX_COMPREHENSION_DEPTH)
      return {
        error: `the rule nests ${depth} comprehensions (all, exists, map, filter), over the maximum of ${MAX_COMPREHENSION_DEPTH}`,
      }
    if (listItems > MAX_LIST_ITEMS)
      return {
        error: `the rule spells out a list of ${listItems} items, over the maximum of ${MAX_LIST_ITEMS}`,
      }
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
