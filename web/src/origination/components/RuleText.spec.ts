import { describe, expect, it } from 'vitest'
import RuleText from './RuleText.vue'
import { mountWithApp } from '@/test/mount'

const mount = (props: { code: string; message: string; params: Record<string, unknown>; outcome?: string }) => mountWithApp(RuleText, { props })

describe('a rule result as text', () => {
  it('says what was checked when the rule passed, and what went wrong, with its values, when it did not', () => {
    const passed = mount({ code: 'age_out_of_range', message: 'risk.rule.age_out_of_range', params: {}, outcome: 'pass' })
    expect(passed.text()).toBe('年龄在产品要求范围内')
    const failed = mount({ code: 'age_out_of_range', message: 'risk.rule.age_out_of_range', params: { age: 70, min: 18, max: 65 }, outcome: 'fail' })
    expect(failed.text()).toBe('年龄 70 岁，不在产品要求的 18–65 岁之间')
  })

  it('falls back to the code (and its values) for a rule the catalogue does not name', () => {
    expect(mount({ code: 'custom_rule', message: 'risk.rule.custom_rule', params: {}, outcome: 'pass' }).text()).toBe('custom_rule')
    expect(mount({ code: 'custom_rule', message: 'risk.rule.custom_rule', params: { n: 3 }, outcome: 'flag' }).text()).toBe('custom_rule (n=3)')
  })
})
