import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { changedFields, profileValues } from './fields'
import { useMyProfile } from './stores/profile'
import ChangeList from './components/ChangeList.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'

const profile = {
  id: 3, user_id: 9, institution_id: 1, branch_id: null, real_name: '王芳', id_number_masked: '360102********1234',
  phone_masked: '137****5678', gender: 'female', birth_year: 1990, customer_type: 'consumer', occupation: null, employer: null,
  email: null, province: null, city: null, address: null, monthly_income: '5000.00', total_assets: null, total_liabilities: null,
  channel: 'online', created_at: '2026-11-25T01:00:00Z', updated_at: '2026-11-25T01:00:00Z', age: 36, locked: false,
  account_status: 'active', has_password: true, bank_cards: [], pending_change: null, recent_changes: [],
}

describe('profile fields', () => {
  it('send only what changed, an emptied field as null', () => {
    const before = profileValues(profile)
    const after = { ...before, monthly_income: '6000', city: '南昌', occupation: '' }
    expect(changedFields(before, after, ['monthly_income', 'occupation', 'customer_type'])).toEqual({ monthly_income: '6000' })
    expect(changedFields(before, { ...before, monthly_income: '' }, ['monthly_income'])).toEqual({ monthly_income: null })
  })
})

describe('the borrower’s profile store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('shows a credit-relevant change as pending until staff decide', async () => {
    const pending = { id: 1, borrower_id: 3, changes: { monthly_income: { old: '5000.00', new: '8000.00' } }, status: 'pending', requested_at: '2026-11-25T02:00:00Z', reviewed_at: null, reviewed_by_user_id: null, review_reason: null }
    fakeApi({ 'PATCH /api/v1/me/profile': { body: { ...profile, pending_change: pending } } })
    const store = useMyProfile()
    await store.save({ monthly_income: '8000.00' })
    expect(await requests[0].json()).toEqual({ monthly_income: '8000.00' })
    expect(store.pending?.changes).toEqual({ monthly_income: { old: '5000.00', new: '8000.00' } })
    expect(store.profile?.monthly_income).toBe('5000.00')
  })

  it('tells the latest decision', async () => {
    const rejected = { id: 2, borrower_id: 3, changes: {}, status: 'rejected', requested_at: '2026-11-25T02:00:00Z', reviewed_at: '2026-11-25T03:00:00Z', reviewed_by_user_id: 5, review_reason: '请提供证明' }
    fakeApi({ 'GET /api/v1/me/profile': { body: { ...profile, recent_changes: [rejected] } } })
    const store = useMyProfile()
    await store.load()
    expect(store.pending).toBeNull()
    expect(store.lastDecision?.review_reason).toBe('请提供证明')
  })
})

describe('ChangeList', () => {
  it('shows old and new values in the reader’s formats', () => {
    const w = mountWithApp(ChangeList, {
      props: { changes: { monthly_income: { old: '5000.00', new: '12345.6' }, customer_type: { old: 'consumer', new: 'farmer' }, employer: { old: null, new: '示范公司' } } },
    })
    expect(w.text()).toContain('月收入')
    expect(w.text()).toContain('¥5,000.00')
    expect(w.text()).toContain('¥12,345.60')
    expect(w.text()).toContain('个人')
    expect(w.text()).toContain('农户')
    expect(w.text()).toContain('（未填写）')
  })
})
