import { afterEach, describe, expect, it } from 'vitest'
import { canAnswer, canRemove, consentTag, groupStatusTag, isOpen, sumAmounts, type GroupApplication, type MyGroup } from './groups'
import GroupConsentCard from './components/GroupConsentCard.vue'
import GroupApplicationView from './views/GroupApplicationView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests, resetFetch } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me } from '@/test/fixtures'

type Member = GroupApplication['members'][number]
const member = (borrower_id: number, consent: Member['consent'], extra: Partial<Member> = {}): Member => ({
  borrower_id,
  name: `成员${borrower_id}`,
  leader: borrower_id === 1,
  amount: '5000.00',
  application_id: 100 + borrower_id,
  application_status: 'awaiting_consent',
  application_number: null,
  consent,
  decided_at: null,
  ...extra,
})
const ga = (status: GroupApplication['status'], members: Member[]): GroupApplication => ({
  id: 9, group_id: 3, group_name: '城关一组', branch_id: 1, status, product_code: 'GRP', term: 6,
  repayment_method: 'equal_installment', purpose: 'agriculture', created_at: '2026-12-03T02:00:00Z', submitted_at: null, total_amount: '18000.00', members,
})
const mine = (over: Partial<MyGroup> = {}): MyGroup => ({
  group_application_id: 9, group_name: '城关一组', status: 'awaiting_consent', product_code: 'GRP', term: 6, period_unit: 'month',
  repayment_method: 'equal_installment', my_amount: '6000.00', my_consent: 'pending', total_amount: '18000.00',
  members: [
    { name_masked: '王**', leader: true, me: false, amount: '5000.00', consent: 'consented' },
    { name_masked: '李**', leader: false, me: true, amount: '6000.00', consent: 'pending' },
    { name_masked: '张**', leader: false, me: false, amount: '7000.00', consent: 'pending' },
  ],
  ...over,
})

afterEach(resetFetch)

describe('group rules', () => {
  it('colour consents and statuses, and add amounts exactly', () => {
    expect([consentTag('consented'), consentTag('refused'), consentTag('pending')]).toEqual(['success', 'danger', 'warning'])
    expect([groupStatusTag('active'), groupStatusTag('member_refused'), groupStatusTag('cancelled')]).toEqual(['success', 'danger', 'info'])
    expect(sumAmounts(['0.10', '0.20', '5000', '6000.5'])).toBe('11000.80')
    expect(sumAmounts([])).toBe('0.00')
  })

  it('let the officer act only while waiting, and remove only above three members', () => {
    expect([isOpen('awaiting_consent'), isOpen('member_refused'), isOpen('held'), isOpen('submitted'), isOpen('cancelled')]).toEqual([true, true, true, false, false])
    const four = [member(1, 'consented'), member(2, 'consented'), member(3, 'consented'), member(4, 'refused')]
    expect(canRemove(ga('member_refused', four))).toBe(true)
    expect(canRemove(ga('member_refused', [...four.slice(0, 3), member(4, 'removed')]))).toBe(false)
    expect(canRemove(ga('submitted', four))).toBe(false)
  })

  it('let a member answer once, while the group application waits', () => {
    expect(canAnswer({ status: 'awaiting_consent', my_consent: 'pending' })).toBe(true)
    expect(canAnswer({ status: 'member_refused', my_consent: 'pending' })).toBe(true)
    expect(canAnswer({ status: 'awaiting_consent', my_consent: 'consented' })).toBe(false)
    expect(canAnswer({ status: 'cancelled', my_consent: 'pending' })).toBe(false)
  })
})

function borrower() {
  const session = useSession()
  session.token = 't'
  session.kind = 'borrower'
  session.me = me({ kind: 'borrower', roles: ['borrower'], permissions: [], scope: 'own' })
}

describe('GroupConsentCard', () => {
  it('shows the joint liability, masked co-members and amounts; consents only after the box is ticked', async () => {
    let body: unknown = null
    fakeApi({
      'GET /api/v1/me/applications/102/group': { body: mine() },
      'POST /api/v1/me/applications/102/consent': async (r) => {
        body = await r.json()
        return { body: mine({ my_consent: 'consented' }) }
      },
    })
    const wrapper = mountWithApp(GroupConsentCard, { props: { applicationId: 102 } }, borrower)
    await flush()
    await flush()
    const text = wrapper.text()
    expect(text).toContain('联保小组“城关一组”的贷款申请')
    expect(text).toContain('连带保证责任')
    expect(text).toContain('王**')
    expect(text).toContain('张**')
    expect(wrapper.get('[data-testid="consent"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="agree-liability"] input').setValue(true)
    await wrapper.get('[data-testid="consent"]').trigger('click')
    await flush()
    await flush()
    expect(body).toEqual({ agree_joint_liability: true })
    expect(requests.find((r) => r.method === 'POST')!.headers.get('X-Device-Id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(wrapper.get('[data-testid="my-consent"]').text()).toContain('您已同意')
    expect(wrapper.emitted('changed')).toHaveLength(1)
  })
})

describe('GroupApplicationView', () => {
  it('shows each member’s consent and offers removal above three, to an officer', async () => {
    fakeApi({ 'GET /api/v1/group-applications/9': { body: ga('member_refused', [member(1, 'consented'), member(2, 'consented'), member(3, 'consented'), member(4, 'refused')]) } })
    const wrapper = mountWithApp(GroupApplicationView, { props: { id: 9 } }, () => {
      const session = useSession()
      session.token = 't'
      session.kind = 'staff'
      session.me = me({ roles: ['loan_officer'], permissions: ['loan.read', 'loan.apply'], scope: 'branch' })
    })
    await flush()
    await flush()
    expect(wrapper.get('[data-testid="ga-status"]').text()).toBe('有成员拒绝')
    expect(wrapper.get('[data-testid="ga-consent-4"]').text()).toBe('已拒绝')
    expect(wrapper.find('[data-testid="ga-remove-4"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="ga-cancel"]').exists()).toBe(true)
  })
})
