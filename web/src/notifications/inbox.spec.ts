import { afterEach, describe, expect, it } from 'vitest'
import { subjectRoute, textKey, textParams, type InboxMessage } from './inbox'
import MyNotificationsView from './views/MyNotificationsView.vue'
import BorrowerShell from '@/shells/BorrowerShell.vue'
import { useSession } from '@/identity/stores/session'
import { useInbox } from './stores/inbox'
import { fakeApi, requests, resetFetch } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me } from '@/test/fixtures'

function message(overrides: Partial<InboxMessage> = {}): InboxMessage {
  return {
    id: 3,
    template: 'application_approved',
    params: { number: 'MC-20261203-000001', amount: '5000.00' },
    subject_kind: 'application',
    subject_id: 42,
    created_at: '2026-12-03T02:00:00Z',
    read_at: null,
    ...overrides,
  }
}

function borrower() {
  const session = useSession()
  session.token = 't'
  session.kind = 'borrower'
  session.me = me({ kind: 'borrower', roles: ['borrower'], permissions: [], scope: 'own' })
}

afterEach(resetFetch)

describe('inbox rules', () => {
  it('render a known template from the catalogue, an unknown one generically, amounts formatted', () => {
    expect(textKey(message())).toBe('inbox.template.application_approved')
    expect(textKey(message({ template: 'from_the_future' }))).toBe('inbox.template.unknown')
    expect(textParams(message({ params: { number: 'MC-1', amount: '5000.00', count: 2 } }), (v) => `¥${v}`)).toEqual({ number: 'MC-1', amount: '¥5000.00', count: 2 })
  })

  it('lead a tap on an application’s message to the application, and nowhere for no subject', () => {
    expect(subjectRoute(message())).toEqual({ name: 'my-application', params: { id: 42 } })
    expect(subjectRoute(message({ subject_kind: null, subject_id: null }))).toBeNull()
  })
})

describe('MyNotificationsView', () => {
  it('lists the texts in the reader’s language; a tap marks it read and opens the application', async () => {
    let read = false
    fakeApi({
      'GET /api/v1/me/notifications': { body: { items: [message(), message({ id: 2, template: 'application_submitted', read_at: '2026-12-03T01:00:00Z' })], total: 2, page: 1, page_size: 100, unread: 1 } },
      'POST /api/v1/me/notifications/3/read': () => {
        read = true
        return { body: message({ read_at: '2026-12-03T03:00:00Z' }) }
      },
    })
    const wrapper = mountWithApp(MyNotificationsView, {}, borrower)
    await flush()
    await flush()
    const first = wrapper.get('[data-testid="notification-3"]')
    expect(first.text()).toContain('未读')
    expect(first.text()).toContain('恭喜！您的贷款申请 MC-20261203-000001')
    expect(first.classes()).toContain('unread')
    expect(wrapper.get('[data-testid="notification-2"]').classes()).not.toContain('unread')
    expect(useInbox().unread).toBe(1)
    await first.trigger('click')
    await flush()
    await flush()
    expect(read).toBe(true)
    expect(useInbox().unread).toBe(0)
    expect(wrapper.get('[data-testid="notification-3"]').classes()).not.toContain('unread')
    expect(wrapper.vm.$router.currentRoute.value.fullPath).toBe('/applications/42')
  })

  it('marks all read and says when there is nothing', async () => {
    let unread = 2
    fakeApi({
      'GET /api/v1/me/notifications': () => ({ body: { items: [], total: 0, page: 1, page_size: 100, unread } }),
      'POST /api/v1/me/notifications/read-all': () => {
        unread = 0
        return { body: { marked: 2, unread: 0 } }
      },
    })
    const wrapper = mountWithApp(MyNotificationsView, {}, borrower)
    await flush()
    await flush()
    expect(wrapper.text()).toContain('暂无消息')
    await wrapper.get('[data-testid="read-all"]').trigger('click')
    await flush()
    await flush()
    expect(requests.some((r) => r.method === 'POST' && r.url.endsWith('/read-all'))).toBe(true)
    expect(wrapper.find('[data-testid="read-all"]').exists()).toBe(false)
  })
})

describe('the borrower shell’s bell', () => {
  it('shows the unread count, in its label too, to a signed-in borrower only', async () => {
    fakeApi({ 'GET /api/v1/me/notifications': { body: { items: [], total: 3, page: 1, page_size: 1, unread: 3 } } })
    const wrapper = mountWithApp(BorrowerShell, {}, borrower)
    await flush()
    await flush()
    const bell = wrapper.get('[data-testid="bell"]')
    expect(bell.attributes('aria-label')).toBe('消息通知，3 条未读')
    expect(wrapper.get('[data-testid="bell-count"]').text()).toBe('3')

    resetFetch()
    const anonymous = mountWithApp(BorrowerShell)
    await flush()
    expect(anonymous.find('[data-testid="bell"]').exists()).toBe(false)
    expect(requests.some((r) => r.url.includes('/me/notifications'))).toBe(false)
  })
})

describe('subjectRoute of a loan', () => {
  it('leads a repayment received to the loan’s receipts, other loan news to the loan', () => {
    const m = { subject_kind: 'loan', subject_id: 7 } as InboxMessage
    expect(subjectRoute({ ...m, template: 'loan_repayment_recorded' })).toEqual({ name: 'my-loan', params: { id: 7 }, hash: '#my-receipts' })
    expect(subjectRoute({ ...m, template: 'loan_closed' })).toEqual({ name: 'my-loan', params: { id: 7 } })
  })
})
