import { afterEach, describe, expect, it } from 'vitest'
import { cents, isShort, prefill, sheetBody, totals, type Sheet, type SheetLine } from './collectionSheet'
import CollectionSheetCard from './components/CollectionSheetCard.vue'
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
