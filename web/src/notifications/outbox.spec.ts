import { afterEach, describe, expect, it, vi } from 'vitest'
import { ElMessageBox } from 'element-plus'
import { actionsFor, statusFilter, statusTag, tabCount, TABS, type OutboxMessage } from './outbox'
import OutboxView from './views/OutboxView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests, resetFetch } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'

const SUMMARY = { pending: 1, retrying: 2, dead: 3, delivered: 40, cancelled: 0, max_attempts: 12 }

function message(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: 5,
    institution_id: 1,
    topic: 'sms',
    template: 'verification_code',
    recipient_masked: '199****0001',
    status: 'dead',
    attempts: 12,
    last_error: 'simulator: numbers starting 1990000 are refused',
    created_at: '2026-11-25T02:00:00Z',
    last_attempt_at: '2026-11-25T04:00:00Z',
    next_attempt_at: null,
    delivered_at: null,
    cancelled_at: null,
    ...overrides,
  }
}

describe('outbox rules', () => {
  it('count every status under "all" and each under its own tab', () => {
    expect(TABS).toEqual(['all', 'pending', 'retrying', 'dead', 'delivered', 'cancelled'])
    expect(tabCount(SUMMARY, 'all')).toBe(46)
    expect(tabCount(SUMMARY, 'dead')).toBe(3)
    expect(tabCount(null, 'dead')).toBeUndefined()
    expect(statusFilter('all')).toBeUndefined()
    expect(statusFilter('retrying')).toBe('retrying')
  })

  it('allow retrying failed messages and cancelling undelivered ones, to managers only', () => {
    expect(actionsFor('dead', true)).toEqual(['retry', 'cancel'])
    expect(actionsFor('retrying', true)).toEqual(['retry', 'cancel'])
    expect(actionsFor('pending', true)).toEqual(['cancel'])
    expect(actionsFor('delivered', true)).toEqual([])
    expect(actionsFor('cancelled', true)).toEqual([])
    expect(actionsFor('dead', false)).toEqual([])
    expect(statusTag('dead')).toBe('danger')
    expect(statusTag('delivered')).toBe('success')
  })
})

function signIn(permissions: string[]) {
  return () => {
    const session = useSession()
    session.token = 't'
    session.kind = 'staff'
    session.me = me({ roles: ['administrator'], permissions, scope: 'institution' })
  }
}

// The first mount imports Element Plus's table, tabs and date picker: seconds on a busy machine.
describe('the outbox monitor', { timeout: 20_000 }, () => {
  afterEach(() => {
    vi.restoreAllMocks()
    resetFetch()
  })

  it('shows the counts on the tabs and filters the list by the chosen tab', async () => {
    fakeApi({
      'GET /api/v1/outbox/summary': { body: SUMMARY },
      'GET /api/v1/outbox': (r) => ({
        body: { items: new URL(r.url).searchParams.get('status') === 'delivered' ? [] : [message()], total: 1, page: 1, page_size: 20 },
      }),
    })
    const w = mountWithApp(OutboxView, {}, signIn(['outbox.read']))
    await vi.waitFor(() => expect(w.find('[data-testid=outbox-count-dead]').text()).toBe('3'))
    expect(w.find('[data-testid=outbox-count-all]').text()).toBe('46')
    const row = w.find('[data-testid=outbox-table] tbody tr')
    expect(row.text()).toContain('验证码')
    expect(row.text()).toContain('199****0001')
    expect(row.text()).toContain('发送失败')
    expect(row.text()).toContain('12 / 12')
    expect(row.text()).toContain('2026年11月25日 10:00:00')
    expect(w.find('[data-testid=outbox-retry]').exists()).toBe(false) // no outbox.manage: no actions

    await w.find('[data-testid=outbox-tab-delivered]').trigger('click')
    await vi.waitFor(() => expect(w.findAll('[data-testid=outbox-table] tbody tr')).toHaveLength(0))
    const lists = requests.filter((r) => new URL(r.url).pathname === '/api/v1/outbox')
    expect(new URL(lists.at(-1)!.url).searchParams.get('status')).toBe('delivered')
    expect(new URL(lists[0].url).searchParams.has('status')).toBe(false)
  })

  it('retries a failed message after a confirmation, then reloads list and counts', async () => {
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    fakeApi({
      'GET /api/v1/outbox/summary': { body: SUMMARY },
      'GET /api/v1/outbox': { body: { items: [message()], total: 1, page: 1, page_size: 20 } },
      'POST /api/v1/outbox/5/retry': { body: message({ status: 'retrying', next_attempt_at: '2026-11-25T04:00:00Z' }) },
    })
    const w = mountWithApp(OutboxView, {}, signIn(['outbox.read', 'outbox.manage']))
    await vi.waitFor(() => expect(w.find('[data-testid=outbox-retry]').exists()).toBe(true))
    await w.find('[data-testid=outbox-retry]').trigger('click')
    await vi.waitFor(() => expect(requests.some((r) => r.method === 'POST' && r.url.endsWith('/api/v1/outbox/5/retry'))).toBe(true))
    expect(String(confirm.mock.calls[0][0])).toContain('199****0001')
    await vi.waitFor(() => expect(requests.filter((r) => new URL(r.url).pathname === '/api/v1/outbox/summary')).toHaveLength(2))
  })

  it('keeps a message when the cancellation is declined, and shows a refusal', async () => {
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockRejectedValueOnce('cancel')
    fakeApi({
      'GET /api/v1/outbox/summary': { body: SUMMARY },
      'GET /api/v1/outbox': { body: { items: [message({ status: 'pending', attempts: 0 })], total: 1, page: 1, page_size: 20 } },
      'POST /api/v1/outbox/5/cancel': { status: 409, body: problem(409, 'outbox_message_delivered', '该消息已送达，不能重发或取消') },
    })
    const w = mountWithApp(OutboxView, {}, signIn(['outbox.read', 'outbox.manage']))
    await vi.waitFor(() => expect(w.find('[data-testid=outbox-cancel]').exists()).toBe(true))
    expect(w.find('[data-testid=outbox-retry]').exists()).toBe(false)
    await w.find('[data-testid=outbox-cancel]').trigger('click')
    await flush()
    expect(requests.some((r) => r.method === 'POST')).toBe(false)

    confirm.mockResolvedValueOnce('confirm' as never)
    await w.find('[data-testid=outbox-cancel]').trigger('click')
    await vi.waitFor(() => expect(w.text()).toContain('该消息已送达，不能重发或取消'))
  })
})
