// Early warning (issue 19 §5): a loan made late through the API (a borrower approved, the contract signed,
// the loan disbursed 40 days back); the administrator runs the close of business, whose early-warning step
// scores the loan and raises "first missed payment" with the suggested action "step up collection". The risk
// officer 孙伟 proposes that action; in the browser the branch manager 陈刚 finds the warning in the queue,
// sees the score history and the proposal, approves it (a second person), and the action applied shows on
// the warning and on the loan's page.
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, DEMO_PASSWORD, expectAccessible, proposedWarning, screenshot, staffLogin, token } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })

test('a warning raised by the close of business has its suggested action applied on a second person’s approval and shown on the loan', async ({ page, api }) => {
  test.setTimeout(240_000) // a loan made late, a run over the demo portfolio, two sign-ins, an axe scan
  // The risk officer proposes the suggested action (the first person).
  const { warning } = await proposedWarning(api, page, 'warnings', { note: '首次逾期，电话未接通' })
  expect(warning.suggested_action).toBe('step_up_collection')

  // The branch manager finds it in the queue and approves it (the second person).
  await staffLogin(page, BRANCH_MANAGER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-warnings').click()
  await expect(page.getByRole('heading', { name: '贷后预警', level: 1 })).toBeVisible()
  await expect(page.getByTestId('warnings')).toBeVisible()
  await expectAccessible(page, '/staff/risk/warnings')
  await page.getByTestId('filter-rule').click()
  await page.getByRole('option', { name: '首次逾期' }).click()
  // Wait for the filtered list: its rows replace the others' in place, links and all.
  await expect(page.getByTestId('warnings').locator('tbody tr').filter({ hasNotText: '首次逾期' })).toHaveCount(0)
  await page.getByTestId(`warning-${warning.id}`).click()
  await expect(page).toHaveURL(new RegExp(`/staff/risk/warnings/${warning.id}$`))
  await expect(page.getByRole('heading', { name: '预警详情', level: 1 })).toBeVisible()
  await expect(page.getByTestId('warning-summary')).toContainText('首次逾期')
  await expect(page.getByTestId('warning-suggested')).toHaveText('加强催收')
  await expect(page.getByTestId('warning-status')).toHaveText('待审批')
  await expect(page.getByTestId('warning-proposed')).toContainText('加强催收')
  await expect(page.getByText('行为评分历史')).toBeVisible()
  await expectAccessible(page, '/staff/risk/warnings/:id')
  await page.getByTestId('warning-approve').click()
  await expect(page.getByTestId('warning-status')).toHaveText('已处置')
  await expect(page.getByTestId('warning-outcome')).toContainText('已执行：加强催收')
  await expect(page.getByTestId('warning-outcome')).toContainText('催收案件已升级至')
  await screenshot(page, 'warning-actioned')

  // On the loan's page: the warning and the action applied.
  await page.getByTestId('warning-loan').click()
  await expect(page.getByTestId('loan-warnings')).toBeVisible()
  const onLoan = page.getByTestId(`loan-warning-${warning.id}`)
  await expect(onLoan).toContainText('首次逾期')
  await expect(onLoan).toContainText('已处置')
  await expect(onLoan.getByTestId('loan-warning-action')).toContainText('加强催收')

  // And the collection case was stepped up through collections.
  const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
  const detail = await (await api.get(`/api/v1/risk/warnings/${warning.id}`, { headers: hm })).json()
  const cases = (await (await api.get('/api/v1/collections/cases', { headers: hm, params: { page_size: 100 } })).json()).items
  const stepped = cases.find((c: { id: number }) => c.id === detail.outcome.case_id)
  expect(stepped.stage).toBe(detail.outcome.stage)
})
