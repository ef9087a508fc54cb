import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { changedFields, outdatedFields, profileValues, sameValue } from './fields'
import { useMyProfile } from './stores/profile'
import ChangeList from './components/ChangeList.vue'
import ReviewDialog from './components/ReviewDialog.vue'
import MyProfileView from './views/MyProfileView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'

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

const change = (over: Record<string, unknown> = {}) => ({
  id: 1, borrower_id: 3, borrower_name: '王芳', changes: { monthly_income: { old: '5000.00', new: '8000.00' }, occupation: { old: null, new: '教师' } },
  status: 'pending', requested_at: '2026-11-25T02:00:00Z', reviewed_at: null, reviewed_by_user_id: null, review_reason: null, ...over,
})

describe('a pending change, merged and withdrawn', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('the financial form starts from the values asked for, and sends what differs from them', () => {
    const store = useMyProfile()
    store.profile = { ...profile, pending_change: change() } as never
    const asked = store.requested
    expect(asked.monthly_income).toBe('8000.00')
    expect(asked.occupation).toBe('教师')
    expect(asked.employer).toBe('')
    // Left as they are: nothing sent, they stay pending. A new field: sent. One set back to the profile's value: sent, leaves the review.
    expect(changedFields(asked, { ...asked, employer: '示范学校' }, ['monthly_income', 'occupation', 'employer'])).toEqual({ employer: '示范学校' })
    expect(changedFields(asked, { ...asked, monthly_income: '5000.00' }, ['monthly_income', 'occupation'])).toEqual({ monthly_income: '5000.00' })
  })

  it('withdraws the pending change, then shows it as withdrawn', async () => {
    const withdrawn = change({ status: 'withdrawn' })
    fakeApi({
      'POST /api/v1/me/profile-changes/1/withdraw': { body: withdrawn },
      'GET /api/v1/me/profile': { body: { ...profile, recent_changes: [withdrawn, change({ id: 0, status: 'superseded' })] } },
    })
    const store = useMyProfile()
    store.profile = { ...profile, pending_change: change(), recent_changes: [change()] } as never
    expect(store.history).toEqual([])
    await store.withdraw(1)
    expect(requests[0].method).toBe('POST')
    expect(store.pending).toBeNull()
    expect(store.history.map((c) => c.status)).toEqual(['withdrawn'])
    expect(store.lastDecision?.status).toBe('withdrawn')
  })

  it('the profile page lists the history with the withdrawn status', async () => {
    fakeApi({
      'GET /api/v1/me/profile': { body: { ...profile, recent_changes: [change({ status: 'withdrawn' }), change({ id: 0, status: 'rejected', review_reason: '请提供证明' })] } },
      'GET /api/v1/auth/sessions': { body: [] },
    })
    const w = mountWithApp(MyProfileView)
    await vi.waitFor(() => expect(w.find('[data-testid=change-history]').exists()).toBe(true))
    expect(w.find('[data-testid=history-withdrawn]').text()).toContain('已撤回')
    expect(w.find('[data-testid=history-rejected]').text()).toContain('请提供证明')
    // The newest outcome is the withdrawal: no "not approved" notice for the older rejection.
    expect(w.find('[data-testid=change-rejected]').exists()).toBe(false)
    expect(w.find('[data-testid=pending-change]').exists()).toBe(false)
  })
})

describe('approving a change that staff overtook (409 change_outdated)', () => {
  it('takes the fields the problem lists, or finds them by comparing with the profile now', () => {
    const c = change()
    expect(outdatedFields(c, ['monthly_income'], null)).toEqual(['monthly_income'])
    expect(outdatedFields(c, ['occupation', 'not_in_the_change'], null)).toEqual(['occupation'])
    expect(outdatedFields(c, undefined, { monthly_income: '5000', occupation: '司机' })).toEqual(['occupation'])
    expect(outdatedFields(c, [], null)).toEqual(['monthly_income', 'occupation'])
    expect(sameValue('monthly_income', '5000', '5000.00')).toBe(true)
    expect(sameValue('occupation', null, '')).toBe(true)
  })

  it('names the fields with their values then and now, and offers to reject instead', async () => {
    const detail = '申请提交后以下资料已被修改：月收入。请驳回并让借款人重新提交'
    fakeApi({
      'POST /api/v1/profile-changes/1/approve': { status: 409, body: { ...problem(409, 'change_outdated', detail), fields: ['monthly_income'] } },
      'GET /api/v1/borrowers/3': { body: { ...profile, monthly_income: '6000.00' } },
      'POST /api/v1/profile-changes/1/reject': async (r) => ({ body: change({ status: 'rejected', review_reason: ((await r.json()) as { reason: string }).reason }) }),
    })
    const w = mountWithApp(ReviewDialog, { props: { change: change(), decision: 'approve' } }, () => {
      useSession().me = me({ permissions: ['borrower.read', 'borrower.review_change'] })
    })
    await flush()
    await w.find('[data-testid=review-confirm]').trigger('click')
    await vi.waitFor(() => expect(w.find('[data-testid=change-outdated]').exists()).toBe(true))
    const alert = w.find('[data-testid=change-outdated]')
    expect(alert.attributes('role')).toBe('alert')
    expect(alert.text()).toContain('此变更已过时')
    const line = w.find('[data-testid=outdated-monthly_income]').text()
    expect(line).toContain('月收入')
    expect(line).toContain('¥5,000.00')
    expect(line).toContain('¥6,000.00')
    expect(line).toContain('¥8,000.00')
    expect(w.find('[data-testid=outdated-occupation]').exists()).toBe(false)
    expect(w.find('[data-testid=review-confirm]').exists()).toBe(false)

    await w.find('[data-testid=reject-instead]').trigger('click')
    expect((w.find('[data-testid=review-reason]').element as HTMLTextAreaElement).value).toContain('工作人员已更新')
    await w.find('[data-testid=review-confirm]').trigger('click')
    await vi.waitFor(() => expect(w.emitted('done')).toHaveLength(1))
    expect((w.emitted('done')![0][0] as { status: string }).status).toBe('rejected')
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
