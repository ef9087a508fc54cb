// Calling a loan early from an early warning (宣布贷款提前到期): a loan made late through the API
// (helpers.lateLoan: disbursed 40 days back, never repaid); the close of business raises "first missed
// payment" on it. The risk officer 孙伟 proposes "call the loan early" (the first person); in the browser
// the branch manager 陈刚, who also approves loan changes, approves it (the second person): servicing records
// the acceleration, and the loan's page says it was called early, with the day, the reason and the amount
// now due (the whole principal left and the interest to the day, plus what was overdue).
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, DEMO_PASSWORD, expectAccessible, proposedWarning, screenshot, staffLogin, token } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })

test('a late loan is called early on the risk officer’s proposal and the branch manager’s approval', async ({ page, api }) => {
  test.setTimeout(240_000) // a loan made late, a run over the demo portfolio, a sign-in, an axe scan
  const { loan, warning } = await proposedWarning(api, page, 'accel', { action: 'call_early', note: '逾期未还且失联，建议提前收回' })

  await staffLogin(page, BRANCH_MANAGER.phone, DEMO_PASSWORD)
  await page.goto(`/staff/risk/warnings/${warning.id}`)
  await expect(page.getByRole('heading', { name: '预警详情', level: 1 })).toBeVisible()
  await expect(page.getByTestId('warning-proposed')).toContainText('宣布贷款提前到期')
  await page.getByTestId('warning-approve').click()
  await expect(page.getByTestId('warning-status')).toHaveText('已处置')
  await expect(page.getByTestId('warning-outcome')).toContainText('宣布提前到期')

  // The loan's page: called early, the day and the reason, and what is now due.
  await page.getByTestId('warning-loan').click()
  const called = page.getByTestId('loan-accelerated')
  await expect(called).toContainText('已宣布提前到期')
  await expect(called).toContainText('贷后风险预警')
  const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
  const read = await (await api.get(`/api/v1/loans/${loan.id}`, { headers: hm })).json()
  expect(read.state.accelerated_on).toBeTruthy()
  const due = Number(read.state.totals.outstanding.total)
  expect(due).toBeGreaterThan(7000) // the principal left of 8,000 and the interest to the day
  expect(read.state.payoff.total).toBe(read.state.totals.outstanding.total)
  const shown = (await page.getByTestId('loan-accelerated-due').innerText()).replace(/[^\d.]/g, '')
  expect(Number(shown)).toBe(due)
  // Nothing is left to fall due later: every installment owing is due by now.
  for (const row of read.state.installments.filter((r: { outstanding: { total: string } }) => r.outstanding.total !== '0.00'))
    expect(row.due_date <= read.state.as_of).toBe(true)
  await expect(page.getByTestId('accelerate-loan')).toHaveCount(0) // called once
  await expectAccessible(page, '/staff/loans/:id')
  await screenshot(page, 'loan-accelerated')
})
