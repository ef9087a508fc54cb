import { afterEach, describe, expect, it, vi } from 'vitest'
import { cents, handoverBody, handoverDifference, isShort, prefill, sheetBody, totals, type Saved, type Sheet, type SheetLine } from './collectionSheet'
import CollectionSheetCard from './components/CollectionSheetCard.vue'
import SheetHandoverTable from './components/SheetHandoverTable.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests, resetFetch } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me } from '@/test/fixtures'

const line = (loan_id: number, total: string, over: Partial<SheetLine> = {}): SheetLine => ({
  borrower_id: loan_id + 10, name: `成员${loan_id}`, leader: loan_id === 1, loan_id, loan_number: `L${loan_id}`,
  principal: total, interest: '0.00', fee: '0.00', penalty: '0.00', due: total, overdue: '0.00', total, ...over,
})
const sheet = (lines: SheetLine[]): Sheet => ({
  group_id: 3, group_name: '城关一组', meeting_date: '2026-12-03', time_of_day: '09:30', place: '城关村委会',
  business_date: '2026-12-03', lines, due: '0.00', overdue: '0.00', total: '0.00',
})

afterEach(resetFetch)

describe('collection sheet totals', () => {
  it('read amounts exactly, and refuse what is not a plain amount of two decimals', () => {
    expect([cents('863.57'), cents('0'), cents(' 12.5 '), cents('0.1')]).toEqual([86357n, 0n, 1250n, 10n])
    expect([cents('-1'), cents('1.234'), cents('1e3'), cents(''), cents('１２')]).toEqual([null, null, null, null, null])
  })

  it('follow the edits: collected, lines not paid, amounts not yet valid', () => {
    const s = sheet([line(1, '863.57'), line(2, '863.57', { overdue: '100.10', total: '963.67' }), line(3, '0.10')])
    const edits = prefill(s)
    expect(totals(s, edits)).toEqual({ toCollect: '1827.34', collected: '1827.34', notPaid: 0, invalid: 0 })
    edits[1].amount = '500'
    edits[2].amount = '0.00'
    expect(totals(s, edits)).toEqual({ toCollect: '1827.34', collected: '1363.57', notPaid: 1, invalid: 0 })
    edits[0].amount = '86.357'
    expect(totals(s, edits)).toEqual({ toCollect: '1827.34', collected: '500.00', notPaid: 1, invalid: 1 })
  })

  it('send every line, a reason only where less was collected', () => {
    const s = sheet([line(1, '863.57'), line(2, '863.57'), line(3, '863.57')])
    const edits = prefill(s)
    edits[0].reason = 'absent' // paid in full: the reason is dropped
    edits[1].amount = '0'
    edits[1].reason = 'absent'
    edits[2].amount = '900.00' // more than due: not short
    expect([isShort(s.lines[0], edits[0]), isShort(s.lines[1], edits[1]), isShort(s.lines[2], edits[2])]).toEqual([false, true, false])
    expect(sheetBody(s, edits)).toEqual({
      date: '2026-12-03',
      lines: [{ loan_id: 1, amount: '863.57' }, { loan_id: 2, amount: '0', reason: 'absent' }, { loan_id: 3, amount: '900.00' }],
    })
  })
})

describe('CollectionSheetCard', () => {
  it('saves the sheet with one key and shows a line’s error beside it', async () => {
    const s = { ...sheet([line(1, '863.57'), line(2, '863.57')]), due: '1727.14', total: '1727.14' }
    let posts = 0
    fakeApi({
      'GET /api/v1/groups/3/collection-sheet': { body: s },
      'POST /api/v1/groups/3/collection-sheet': () => {
        posts += 1
        return { status: 422, body: { type: 'about:blank', title: 'x', status: 422, code: 'validation_failed', detail: 'x', errors: [{ field: 'lines.1.amount', code: 'loan_event_refused', message: '第二行有误' }] } }
      },
    })
    const wrapper = mountWithApp(CollectionSheetCard, { props: { groupId: 3, canRecord: true } }, () => {
      const session = useSession()
      session.token = 't'
      session.kind = 'staff'
      session.me = me({ roles: ['finance'], permissions: ['loan.read', 'repayment.record'], scope: 'institution' })
    })
    await flush()
    await flush()
    expect(wrapper.get('[data-testid="collection-sheet-collected"]').text()).toContain('1,727.14')
    await wrapper.get('[data-testid="collection-sheet-amount-2"]').setValue('500')
    expect(wrapper.get('[data-testid="collection-sheet-collected"]').text()).toContain('1,363.57')
    expect(wrapper.find('[data-testid="collection-sheet-reason-2"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="collection-sheet-amount-2"]').attributes('aria-label')).toBe('成员2 实收金额')
    await wrapper.get('[data-testid="collection-sheet-save"]').trigger('click')
    await flush()
    await flush()
    expect(posts).toBe(1)
    const post = requests.find((r) => r.method === 'POST')!
    expect(post.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await post.json()).toEqual({ date: '2026-12-03', lines: [{ loan_id: 1, amount: '863.57' }, { loan_id: 2, amount: '500' }] })
    const row = wrapper.get('[data-testid="collection-sheet-line-2"]')
    expect(row.text()).toContain('第二行有误')
  })
})

describe('the handover of a sheet’s cash', () => {
  it('compares the count with what was collected exactly, and refuses what is not an amount', () => {
    expect(handoverDifference('1363.57', '1363.57')).toEqual({ kind: 'even', amount: '0.00' })
    expect(handoverDifference('1363.57', '1353.57')).toEqual({ kind: 'short', amount: '10.00' })
    expect(handoverDifference('1363.57', '1363.6')).toEqual({ kind: 'over', amount: '0.03' })
    expect(handoverDifference('0.10', '0')).toEqual({ kind: 'short', amount: '0.10' })
    expect([handoverDifference('1363.57', ''), handoverDifference('1363.57', '-1'), handoverDifference('1363.57', '1.234')]).toEqual([null, null, null])
  })

  it('sends the reason only when one is given', () => {
    expect(handoverBody(' 1353.57 ', '  ')).toEqual({ counted: '1353.57' })
    expect(handoverBody('1353.57', ' 找零短少 ')).toEqual({ counted: '1353.57', reason: '找零短少' })
  })
})

const waiting = (over: Partial<Saved> = {}): Saved => ({
  id: 9, group_id: 3, group_name: '城关一组', meeting_date: '2026-12-03', due: '1727.14', collected: '1727.14',
  recorded_by_user_id: 5, recorded_by_name: '李经理', recorded_at: '2026-12-03T02:10:00Z', lines: [],
  handover_status: 'waiting', handover_expected: null, handover_counted: null, handover_shortage: null,
  handover_overage: null, handover_reason: null, handover_entry_id: null, handed_over_by_user_id: null,
  handed_over_by_name: null, handed_over_at: null, ...over,
})

describe('SheetHandoverTable', () => {
  it('asks the reason of a shortage before sending, then confirms once with one key and shows the sheet handed over', async () => {
    let posts = 0
    let handed = false
    fakeApi({
      'GET /api/v1/collection-sheets': () => ({ body: { items: handed ? [] : [waiting()], total: handed ? 0 : 1, page: 1, page_size: 100 } }),
      'POST /api/v1/collection-sheets/9/handover': () => {
        posts += 1
        handed = true
        return { body: waiting({ handover_status: 'handed_over', handover_expected: '1727.14', handover_counted: '1717.14', handover_shortage: '10.00', handover_reason: '找零短少', handed_over_at: '2026-12-04T08:00:00Z' }) }
      },
    })
    const wrapper = mountWithApp(SheetHandoverTable, { props: { canHandOver: true }, attachTo: document.body }, () => {
      const session = useSession()
      session.token = 't'
      session.kind = 'staff'
      session.me = me({ roles: ['finance'], permissions: ['loan.read', 'repayment.record'], scope: 'institution' })
    })
    await flush()
    await flush()
    expect(wrapper.get('[data-testid="sheet-handover-status-9"]').text()).toContain('待交款')
    expect(wrapper.text()).toContain('城关一组')
    await wrapper.get('[data-testid="sheet-handover-9"]').trigger('click')
    await flush()
    const counted = document.querySelector<HTMLInputElement>('[data-testid="sheet-handover-counted"]')!
    expect(counted.value).toBe('1727.14')
    counted.value = '1717.14'
    counted.dispatchEvent(new Event('input'))
    await flush()
    expect(document.querySelector('[data-testid="sheet-handover-difference"]')!.textContent).toContain('短款')
    document.querySelector<HTMLButtonElement>('[data-testid="sheet-handover-save"]')!.click()
    await flush()
    expect(posts).toBe(0) // short without a reason: asked first, nothing sent
    await vi.waitFor(() => expect(document.querySelector('.el-dialog .el-form-item__error')?.textContent).toContain('请填写短款原因'), { timeout: 5000 })
    const reason = document.querySelector<HTMLInputElement>('[data-testid="sheet-handover-reason"]')!
    reason.value = '找零短少'
    reason.dispatchEvent(new Event('input'))
    await flush()
    document.querySelector<HTMLButtonElement>('[data-testid="sheet-handover-save"]')!.click()
    await vi.waitFor(() => expect(posts).toBe(1), { timeout: 5000 })
    await flush()
    const post = requests.find((r) => r.method === 'POST')!
    expect(post.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await post.json()).toEqual({ counted: '1717.14', reason: '找零短少' })
    expect(wrapper.emitted('handedOver')).toHaveLength(1)
    wrapper.unmount()
  })

  it('shows a handed-over sheet with what was counted and the shortage, and no confirm button', async () => {
    fakeApi({
      'GET /api/v1/groups/3/collection-sheets': { body: { items: [waiting({ handover_status: 'handed_over', handover_expected: '1727.14', handover_counted: '1717.14', handover_shortage: '10.00', handed_over_by_name: '周会计' })], total: 1, page: 1, page_size: 20 } },
    })
    const wrapper = mountWithApp(SheetHandoverTable, { props: { groupId: 3, canHandOver: true } }, () => {
      const session = useSession()
      session.token = 't'
      session.kind = 'staff'
      session.me = me({ roles: ['finance'], permissions: ['loan.read', 'repayment.record'], scope: 'institution' })
    })
    await flush()
    await flush()
    const status = wrapper.get('[data-testid="sheet-handover-status-9"]').text()
    expect(status).toContain('已交款')
    expect(status).toContain('1,717.14')
    expect(status).toContain('短款')
    expect(wrapper.find('[data-testid="sheet-handover-9"]').exists()).toBe(false)
  })
})
