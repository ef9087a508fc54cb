// Risk rules. The risk officer (孙伟, role risk_officer: risk.manage) opens the rule sets, starts a draft from
// the version in force, and breaks a rule's CEL expression: saving is refused and the compile error is shown
// beside that rule. Corrected, the officer lowers the automatic-approval amount, previews the sample
// applications — the clean sample moves from approve to refer — and publishes the draft, which is then in force.
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, expectAccessible, screenshot, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })
const RISK_OFFICER = { phone: '13900000004' }

test('a risk officer edits a draft threshold, previews the samples changing decision and publishes; a compile error shows beside the rule', async ({ page }) => {
  test.setTimeout(120_000)
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-rules').click()
  await expect(page.getByRole('heading', { name: '风控规则' })).toBeVisible()
  await page.getByTestId('draft-create').click()
  await expect(page).toHaveURL(/\/staff\/risk\/rules\/default\/\d+$/)
  await expect(page.getByTestId('version-status')).toHaveText('草稿')

  // A rule that does not compile: refused, the error beside the rule, nothing saved.
  const rule = page.getByTestId('rule-too_many_inquiries')
  const expression = rule.getByTestId('rule-expression')
  const original = await expression.inputValue()
  await expression.fill('bureau.inquiries_3m >')
  await page.getByTestId('draft-save').click()
  await expect(rule.getByTestId('rule-error')).toBeVisible()
  await expect(expression).toHaveAttribute('aria-invalid', 'true')
  await expectAccessible(page, 'rule editor with a compile error')
  await screenshot(page, 'risk-rule-compile-error')
  await expression.fill(original)

  // Lower the automatic-approval amount to ¥10,000 (1,000,000 fen): the clean ¥20,000 sample is referred.
  const amount = page.getByTestId('param-approve_max_amount').locator('input')
  await amount.fill('1000000')
  await amount.blur()
  await page.getByTestId('preview-run').click()
  await expect(rule.getByTestId('rule-error')).toHaveCount(0)
  await expect(page.getByTestId('preview-table')).toBeVisible()
  await expect(page.getByTestId('current-clean')).toHaveText('自动批准')
  await expect(page.getByTestId('draft-clean')).toHaveText('转人工')
  await expect(page.getByTestId('draft-blacklisted')).toHaveText('拒绝')
  await screenshot(page, 'risk-preview', true)

  await page.getByTestId('draft-publish').click()
  await page.getByRole('button', { name: '发布' }).last().click()
  await expect(page.getByTestId('version-status')).toHaveText('生效中')
  await expect(page.getByTestId('draft-save')).toHaveCount(0)
  await page.getByTestId('menu-risk-rules').click()
  await expect(page.getByTestId('rule-set-default')).toContainText('生效中')
  await expect(page.getByTestId('draft-create')).toBeVisible()
})

test('the bureau simulator report shows the repayment grid; the blacklist lists the demo entry masked', async ({ page }) => {
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-bureau').click()
  // 110105 19900517 911 2: sequence 91x, a serious current delinquency.
  await page.getByTestId('simulator-id-number').fill('110105199005179112')
  await page.getByTestId('simulator-lookup').click()
  const report = page.getByTestId('bureau-report')
  await expect(report).toContainText('serious_delinquency')
  await expect(page.getByTestId('report-account-0').locator('td')).toHaveCount(24)
  await expectAccessible(page, 'bureau report')
  await page.getByTestId('menu-risk-blacklist').click()
  await expect(page.getByTestId('blacklist-table')).toContainText('110105********9454')
})
