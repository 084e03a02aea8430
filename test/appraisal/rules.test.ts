/**
 * CEL rules: what they read, and the limits that bound the work one rule can ask for.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePolicy } from '../../src/appraisal/policy.js'
import {
  compileRule,
  evaluateRule,
  MAX_COMPREHENSION_DEPTH,
  MAX_LIST_ITEMS,
  MAX_RULE_LENGTH,
} from '../../src/appraisal/rules.js'

const bindings = {
  claims: { platform: 'tdx', raw: { list: [1, 2, 3] } },
  tcbStatus: null,
  advisories: [],
}

/** Returns a rule that nests `depth` `all` comprehensions over a 20-item list. */
function nested(depth: number): string {
  const list = `[${Array.from({ length: 20 }, (_, i) => i).join(',')}]`
  let body = 'true'
  for (let level = depth; level > 0; level--) body = `${list}.all(v${level}, ${body})`
  return body
}

describe('compileRule', () => {
  it('runs a rule with two nested comprehensions', () => {
    const rule = 'claims.raw.list.all(a, claims.raw.list.exists(b, b >= a))'
    assert.equal(evaluateRule(rule, bindings).status, 'pass')
  })

  it('rejects three nested comprehensions', () => {
    assert.equal(MAX_COMPREHENSION_DEPTH, 2)
    const compiled = compileRule(nested(3))
    assert.equal(compiled.run, undefined)
    assert.match(compiled.error ?? '', /nests 3 comprehensions/)
  })

  it('rejects a rule over the length limit', () => {
    const compiled = compileRule(`${'1 + '.repeat(MAX_RULE_LENGTH / 4)}1 > 0`)
    assert.match(compiled.error ?? '', /over the maximum of 8192/)
  })

  it('rejects a list literal over the item limit', () => {
    const list = `[${Array.from({ length: MAX_LIST_ITEMS + 1 }, (_, i) => i).join(',')}]`
    assert.match(compileRule(`${list}.size() > 0`).error ?? '', /257 items/)
    const fits = `[${Array.from({ length: MAX_LIST_ITEMS }, (_, i) => i).join(',')}]`
    assert.equal(compileRule(`${fits}.size() > 0`).error, undefined)
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
