// The books. The finance officer (冯琳, role finance: ledger.post) opens the manual entry form, types an
// entry whose credit is one fen short: the form shows the difference and the reason, and refuses to post
// it; corrected, it posts, and its detail shows the lines. The trial balance for the business date then
// shows equal debit and credit totals (the demo's own entries included).
import { test, expect, type Page } from './fixtures'
import { DEMO_PASSWORD, expectAccessible, screenshot, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })
const FINANCE = { phone: '13900000009' }

async function chooseAccount(page: Page, line: number, code: string) {
  await page.getByTestId(`line-${line}-account`).click()
  await page.keyboard.type(code)
  await page.getByRole('option', { name: new RegExp(`^${code} `) }).first().click()
}

test('an accountant posts a balanced entry; an unbalanced one is refused with the reason; the trial balance balances', async ({ page }) => {
  test.setTimeout(120_000) // two axe runs and a posting
  await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-ledger-entry-new').click()
  await expect(page.getByRole('heading', { name: '手工记账' })).toBeVisible()

  const description = `股东追加投资 ${Date.now()}`
  await page.getByTestId('entry-description').fill(description)
  await chooseAccount(page, 0, '1002')
  await page.getByTestId('line-0-debit').fill('20000.00')
  await chooseAccount(page, 1, '4001')
  await page.getByTestId('line-1-credit').fill('19999.99')

  // Unbalanced: the difference and the reason are shown, and the entry cannot be posted.
  await expect(page.getByTestId('entry-difference')).toHaveText('借方减贷方：¥0.01')
  await expect(page.getByTestId('entry-blocked')).toHaveText('借贷不平衡：借方合计须等于贷方合计')
  await expect(page.getByTestId('entry-submit')).toBeDisabled()
  await expectAccessible(page, 'manual entry, unbalanced')
  await screenshot(page, 'ledger-entry-unbalanced')

  // Corrected: balanced, posted, and shown with its lines.
  await page.getByTestId('line-1-credit').fill('20000')
  await expect(page.getByTestId('entry-difference')).toHaveText('借贷平衡')
  await expect(page.getByTestId('total-debit')).toHaveText('¥20,000.00')
  await expect(page.getByTestId('total-credit')).toHaveText('¥20,000.00')
  await page.getByTestId('entry-submit').click()
  await expect(page).toHaveURL(/\/staff\/ledger\/entries\/\d+$/)
  await expect(page.getByTestId('entry-facts')).toContainText(description)
  const lines = page.getByTestId('entry-detail-lines').locator('tbody tr')
  await expect(lines).toHaveCount(2)
  await expect(lines.nth(0)).toContainText('1002 银行存款')
  await expect(lines.nth(0)).toContainText('¥20,000.00')
  await expect(lines.nth(1)).toContainText('4001 实收资本')
  await expect(page.getByTestId('entry-totals')).toContainText('借方 ¥20,000.00 · 贷方 ¥20,000.00')

  // The journal lists it; the trial balance for the business date has equal totals.
  await page.getByTestId('menu-ledger-journal').click()
  await expect(page.getByTestId('journal-table')).toContainText(description)
  await page.getByTestId('menu-ledger-trial-balance').click()
  await expect(page.getByRole('heading', { name: '试算平衡表' })).toBeVisible()
  const totals = page.getByTestId('tb-totals')
  await expect(page.getByTestId('tb-balanced')).toHaveText('平衡')
  const debit = await totals.getByTestId('tb-total-debit').textContent()
  await expect(totals.getByTestId('tb-total-credit')).toHaveText(debit ?? '')
  const closingDebit = await totals.getByTestId('tb-closing-debit').textContent()
  await expect(totals.getByTestId('tb-closing-credit')).toHaveText(closingDebit ?? '')
  await expect(page.getByTestId('tb-table')).toContainText('实收资本')
  await expectAccessible(page, 'trial balance')
  await screenshot(page, 'ledger-trial-balance')
})

test('the chart, the journal, a reversal and a statement, in both languages', async ({ page }) => {
  test.setTimeout(150_000) // four pages checked by axe, a posting and its reversal
  await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-ledger-accounts').click()
  const chart = page.getByTestId('chart-table')
  await expect(chart).toContainText('130101')
  await expect(chart).toContainText('贷款损失准备')
  await expectAccessible(page, 'chart of accounts')

  // The balance of 1012 (the payment channel) as the demo left it (its loans' online payments are there).
  const showStatement = async () => {
    await page.getByTestId('menu-ledger-statement').click()
    await page.getByTestId('statement-account').click()
    await page.keyboard.type('1012')
    await page.getByRole('option', { name: /^1012 / }).click()
    await page.getByTestId('statement-show').click()
  }
  await showStatement()
  const closing = await page.getByTestId('statement-closing').textContent()

  // The demo's entry posted in error has its reversal; a manual entry is reversed here, once.
  await page.getByTestId('menu-ledger-entry-new').click()
  const description = `误记冲销测试 ${Date.now()}`
  await page.getByTestId('entry-description').fill(description)
  await chooseAccount(page, 0, '1012')
  await page.getByTestId('line-0-debit').fill('88.00')
  await chooseAccount(page, 1, '1002')
  await page.getByTestId('line-1-credit').fill('88.00')
  await page.getByTestId('entry-submit').click()
  await expect(page).toHaveURL(/\/staff\/ledger\/entries\/\d+$/)
  const original = page.url()
  await page.getByTestId('entry-reverse').click()
  await page.getByRole('dialog').getByRole('button', { name: '冲销' }).click()
  await expect(page.getByTestId('entry-facts')).toContainText('冲销分录')
  await page.goto(original)
  await expect(page.getByTestId('reversed-by')).toBeVisible()
  await expect(page.getByTestId('entry-reverse')).toHaveCount(0)
  await expectAccessible(page, 'journal entry')

  await page.getByTestId('menu-ledger-journal').click()
  await expect(page.getByTestId('journal-table')).toContainText(description)
  await expectAccessible(page, 'journal')

  // The statement of 1012: the entry and its reversal leave the balance where it was.
  await showStatement()
  await expect(page.getByTestId('statement-table')).toContainText(description)
  await expect(page.getByTestId('statement-closing')).toHaveText(closing!)
  await expectAccessible(page, 'account statement')

  await page.getByTestId('language-switch').click()
  await expect(page.getByRole('heading', { name: 'Account statement' })).toBeVisible()
  await page.getByTestId('menu-ledger-trial-balance').click()
  await expect(page.getByTestId('tb-balanced')).toHaveText('Balanced')
  await expect(page.getByRole('heading', { name: 'Period close' })).toBeVisible()
})
