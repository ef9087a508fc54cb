// Early defaults. The risk officer (孙伟, risk.read) opens 早期违约率: the demo's loans, walked over 150
// business days with some paid late and one written off, are shown by grade and month paid out, with the
// rates of each measure and the overall total, and a chart of the rates by month (loaded with the page).
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, expectAccessible, screenshot, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })
const RISK_OFFICER = { phone: '13900000004' }

test('a risk officer reads the early default rates of the demo loans by grade and vintage', async ({ page }) => {
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-early-defaults').click()
  await expect(page.getByRole('heading', { name: '早期违约率', exact: true })).toBeVisible()
  const table = page.getByTestId('early-defaults-table')
  await expect(table).toContainText('全部等级')
  await expect(table).toContainText('全部月份')
  // The overall row (last): twelve loans, and a 30+-in-3-months rate that is a real percentage.
  const total = table.locator('.el-table__body tr').last()
  await expect(total).toContainText('12')
  await expect(total.getByTestId('rate-dpd30_3m')).toHaveText(/^\d+\.\d%$/)
  await expect(page.getByTestId('early-defaults-chart')).toBeVisible()
  await page.getByTestId('early-defaults-measure').getByText('6个月内逾期90天+').click()
  await expect(page.getByTestId('early-defaults-chart')).toBeVisible()
  await expectAccessible(page, 'early defaults')
  await screenshot(page, 'risk-early-defaults', true)
})
