/**
 * CEL rules: what they read, and the limits that bound the work one rule can ask for.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePolicy } from '../../src/appraisal/policy.js'
import {
  compileRule,
  evaluateRule,
  MAX_RULE_LENGTH,
  RULE_LIMITS,
} from '../../src/appraisal/rules.js'

const bindings = {
  claims: { platform: 'tdx', raw: { list: [1, 2, 3] } },
  tcbStatus: null,
  advisories: [],
}

/** Returns a list literal of `length` zeros. */
function zeros(length: number): string {
  return `[${Array.from({ length }, () => 0).join(',')}]`
}

/** Returns a rule that nests `depth` `all` comprehensions over a 20-item list. */
function nested(depth: number): string {
  let body = 'true'
  for (let level = depth; level > 0; level--) body = `[${'1,'.repeat(19)}1].all(v${level}, ${body})`
  return body
}

function rejects(rule: string, reason: RegExp): void {
  const compiled = compileRule(rule)
  assert.equal(compiled.run, undefined, rule.slice(0, 80))
  assert.match(compiled.error ?? '', reason)
}

describe('compileRule', () => {
  it('runs a rule with two nested comprehensions', () => {
    const rule = 'claims.raw.list.all(a, claims.raw.list.exists(b, b >= a))'
    assert.equal(evaluateRule(rule, bindings).status, 'pass')
  })

  it('rejects three nested comprehensions', () => {
    assert.equal(RULE_LIMITS.depth, 2)
    rejects(nested(3), /nests 3 iterations/)
  })

  it('counts in as an iteration', () => {
    rejects('[1].all(a, [2].all(b, 1 in [3]))', /nests 3 iterations/)
    assert.equal(compileRule('[1].all(a, 1 in [3])').error, undefined)
  })

  it('rejects lists of more than 64 items in all', () => {
    rejects(`${zeros(40)}.size() + ${zeros(40)}.size() > 0`, /lists of 80 items in all/)
    assert.equal(compileRule(`${zeros(64)}.size() > 0`).error, undefined)
  })

  it('rejects more than 8 additions', () => {
    const built = Array.from({ length: 10 }, () => 'claims.raw.list').join(' + ')
    rejects(`(${built}).size() > 0`, /uses \+ 9 times/)
  })

  it('rejects the long rules of an attack pass', () => {
    const list = zeros(256)
    const five = `(${list}+${list}+${list}+${list}+${list})`
    rejects(`${five}.all(a, ${five}.all(b, !(1 in ${five})))`, /over the maximum/)
    rejects(`${zeros(20)}.all(a, ${zeros(20)}.all(b, ${five} == ${five}))`, /over the maximum/)
  })

  it('rejects a rule over the length limit', () => {
    rejects(`${'1 + '.repeat(MAX_RULE_LENGTH / 4)}1 > 0`, /over the maximum of 8192/)
  })

  it('fails a costly rule at run time instead of running it', () => {
    const outcome = evaluateRule(nested(6), bindings)
    assert.equal(outcome.status, 'fail')
    assert.match(outcome.detail, /does not compile/)
  })

  it('rejects a policy with more than 64 rules', () => {
    const rules = Array.from({ length: 65 }, (_, i) => ({ name: `r${i}`, expression: 'true' }))
    assert.throws(() => parsePolicy(JSON.stringify({ id: 'many', rules })), {
      code: 'ERR_POLICY_INVALID',
    })
    assert.equal(parsePolicy(JSON.stringify({ id: 'some', rules: rules.slice(0, 64) })).id, 'some')
  })

  it('rejects a policy carrying a costly rule', () => {
    const policy = { id: 'costly', rules: [{ name: 'deep', expression: nested(4) }] }
    assert.throws(() => parsePolicy(JSON.stringify(policy)), { code: 'ERR_POLICY_INVALID' })
  })
})
