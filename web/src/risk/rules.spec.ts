// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { changed, parameterKind, parseList, ruleField } from './rules'

describe('risk rule helpers', () => {
  it('edit each parameter by its type', () => {
    expect([true, 55, ['A'], 'x'].map(parameterKind)).toEqual(['bool', 'int', 'list', 'text'])
  })
  it('read a typed list, Chinese commas included', () => {
    expect(parseList('A, B，C  ,')).toEqual(['A', 'B', 'C'])
    expect(parseList('')).toEqual([])
  })
  it('name a rule field as the API does', () => {
    expect(ruleField(3, 'expression')).toBe('rules[3].expression')
  })
  it('see a moved decision or grade', () => {
    const a = { decision: 'approve', grade: 'A' } as never
    expect(changed({ current: a, draft: a })).toBe(false)
    expect(changed({ current: a, draft: { decision: 'refer', grade: 'A' } as never })).toBe(true)
  })
})
