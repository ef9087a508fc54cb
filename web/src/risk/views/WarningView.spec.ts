import { describe, expect, it, vi } from 'vitest'
import WarningView from './WarningView.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'
import { useSession } from '@/identity/stores/session'

const base = {
  id: 3, rule: 'first_missed_payment', severity: 'medium', subject: 'loan:12', raised_on: '2026-12-04', loan_id: 12,
  loan_number: 'L-1', borrower_id: 5, borrower_name: '张三', branch_id: 1, score: 590, details: { dpd: 10 },
  suggested_action: 'step_up_collection', assigned_user_id: 7, proposal_note: null, decided_by_user_id: null,
  decided_at: null, decision_note: null, outcome: null, version: 2, scores: [], borrower_frozen: false,
}
const proposed = { ...base, status: 'proposed', proposed_action: 'step_up_collection', proposed_by_user_id: 9, proposed_at: '2026-12-04T02:00:00Z' }

function signIn() {
  return () => {
    useSession().me = me({ user_id: 7, permissions: ['risk.warning.handle'] })
  }
}

describe('an early warning page', { timeout: 30_000 }, () => {
  it('explains the rule and lets a second person approve the proposed action, then shows what was done', async () => {
    fakeApi({
      'GET /api/v1/risk/warnings/3': { body: proposed },
      'POST /api/v1/risk/warnings/3/approve': { body: { ...proposed, status: 'actioned', decided_by_user_id: 7, outcome: { action: 'step_up_collection', case_id: 4, stage: 'phone' } } },
    })
    const w = mountWithApp(WarningView, { props: { id: 3 }, attachTo: document.body }, signIn())
    await vi.waitFor(() => expect(w.find('[data-testid=warning-approve]').exists()).toBe(true))
    expect(w.text()).toContain('此前从未逾期，现已逾期 10 天。')
    expect(w.find('[data-testid=warning-suggested]').text()).toBe('加强催收')
    await w.find('[data-testid=warning-approve]').trigger('click')
    await vi.waitFor(() => expect(w.find('[data-testid=warning-outcome]').exists()).toBe(true))
    expect(w.find('[data-testid=warning-outcome]').text()).toContain('已执行：加强催收')
    expect(await requests.find((r) => r.method === 'POST')!.json()).toEqual({ note: null })
    w.unmount()
  })

  it('does not offer the proposer the approval, and shows a refusal from the API', async () => {
    fakeApi({
      'GET /api/v1/risk/warnings/3': { body: { ...proposed, proposed_by_user_id: 7 } },
      'POST /api/v1/risk/warnings/3/dismiss': { status: 409, body: problem(409, 'warning_wrong_state', '预警当前状态为“actioned”，不能执行此操作') },
    })
    const w = mountWithApp(WarningView, { props: { id: 3 }, attachTo: document.body }, signIn())
    await vi.waitFor(() => expect(w.find('[data-testid=warning-waits]').exists()).toBe(true))
    expect(w.find('[data-testid=warning-approve]').exists()).toBe(false)
    await w.find('[data-testid=warning-dismiss-note] input, input[data-testid=warning-dismiss-note]').setValue('已补缴')
    await w.find('[data-testid=warning-dismiss]').trigger('click')
    await vi.waitFor(() => expect(w.text()).toContain('不能执行此操作'))
    w.unmount()
  })

  it('links an applied ask_guarantor to the loan with the add-guarantor form, for those who may add one', async () => {
    const asked = { ...proposed, status: 'actioned', proposed_action: 'ask_guarantor', decided_by_user_id: 8, outcome: { action: 'ask_guarantor' } }
    for (const [permissions, shown] of [[['risk.warning.handle', 'loan.apply'], true], [['risk.warning.handle'], false]] as const) {
      fakeApi({ 'GET /api/v1/risk/warnings/3': { body: asked } })
      const w = mountWithApp(WarningView, { props: { id: 3 }, attachTo: document.body }, () => {
        useSession().me = me({ user_id: 7, permissions: [...permissions] })
      })
      await vi.waitFor(() => expect(w.find('[data-testid=warning-outcome]').exists()).toBe(true))
      const link = w.find('[data-testid=warning-add-guarantor]')
      expect(link.exists()).toBe(shown)
      if (shown) expect(link.attributes('href')).toBe('/staff/loans/12?add=guarantor')
      w.unmount()
    }
  })
})
