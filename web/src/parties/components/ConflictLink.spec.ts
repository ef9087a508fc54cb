import { describe, expect, it } from 'vitest'
import ConflictLink from './ConflictLink.vue'
import { flush, mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'

const taken = { ...problem(409, 'id_number_already_registered', '该身份证号码已注册', 'id_number'), conflict_with: { entity_type: 'borrower', id: 42, name: '王芳' } }

describe('the link to the borrower who already has an ID number or phone', () => {
  it('appears under the field the API named, linking to that borrower', async () => {
    const w = mountWithApp(ConflictLink, { props: { problem: taken, field: 'id_number' } })
    await flush()
    const link = w.find('[data-testid=conflict-link]')
    expect(link.text()).toBe('已登记：查看王芳的资料')
    expect(link.attributes('href')).toBe('/staff/borrowers/42')
    expect(w.find('p').classes()).toContain('field-hint') // tied to the input by v-field-errors
  })

  it('stays away from other fields, and when the API named nobody', () => {
    expect(mountWithApp(ConflictLink, { props: { problem: taken, field: 'phone' } }).find('a').exists()).toBe(false)
    const hidden = problem(409, 'id_number_already_registered', '该身份证号码已注册', 'id_number')
    expect(mountWithApp(ConflictLink, { props: { problem: hidden, field: 'id_number' } }).find('a').exists()).toBe(false)
    expect(mountWithApp(ConflictLink, { props: { problem: null, field: 'id_number' } }).find('a').exists()).toBe(false)
  })
})
