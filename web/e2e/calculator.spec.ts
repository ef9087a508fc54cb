// 5. The public calculator: 10,000 at 12 % a year over 12 months in equal installments is 888.49 a
//    month with a last installment of 888.47 and an APR of 12.00 %; results follow the inputs live.
import { test, expect } from './fixtures'
import { screenshot } from './helpers'

test('equal installments of 10,000 at 12 % over 12 months', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 1000 })
  await page.goto('/calculator')
  await page.getByTestId('calc-amount').fill('10000')
  await page.getByTestId('calc-rate').fill('12')
  await page.getByTestId('calc-term').locator('input').fill('12')
  await expect(page.getByTestId('calc-installment')).toHaveText('¥888.49')
  await expect(page.getByTestId('calc-last')).toHaveText('¥888.47')
  await expect(page.getByTestId('calc-apr')).toHaveText('12.00%')
  await expect(page.getByTestId('calc-schedule').locator('tbody tr')).toHaveCount(12)
  await expect(page.locator('canvas')).toBeVisible()
  await page.getByTestId('calc-summary').scrollIntoViewIfNeeded()
  await screenshot(page, 'calculator')

  // Live: a longer term changes the schedule without any button.
  await page.getByTestId('calc-term').locator('input').fill('24')
  await page.getByTestId('calc-term').locator('input').blur()
  await expect(page.getByTestId('calc-schedule').locator('tbody tr')).toHaveCount(24)
  await expect(page.getByTestId('calc-installment')).toHaveText('¥470.73')

  // An upfront fee deducted at disbursement raises the APR above the nominal rate.
  await page.getByTestId('add-fee').click()
  await expect(page.getByTestId('calc-upfront')).toHaveText('¥100.00')
  await expect(page.getByTestId('calc-apr')).toHaveText('13.02%')
  await expect(page.getByTestId('calc-fee-lines')).toContainText('服务费')

  // The same fee paid by the borrower on the disbursement day instead: the same cash flows, the same APR.
  await page.getByTestId('fee-0').locator('.el-select').click()
  await page.getByRole('option', { name: '放款当日由借款人支付', exact: true }).click()
  await expect(page.getByTestId('calc-paid-at-disbursement')).toHaveText('¥100.00')
  await expect(page.getByTestId('calc-upfront')).toHaveCount(0)
  await expect(page.getByTestId('calc-apr')).toHaveText('13.02%')

  // A guarantor's fee of 1 % of each installment's principal + interest: 1 % of 470.73 is 4.71 a month.
  await page.getByTestId('fee-0').locator('.el-select').first().click()
  await page.getByRole('option', { name: '随每期收取', exact: true }).click()
  await page.getByTestId('fee-0').getByText('按比例', { exact: true }).click()
  await page.getByTestId('fee-0').getByRole('textbox').last().fill('1')
  await page.getByTestId('fee-of-0').click()
  await page.getByRole('option', { name: '每期本息', exact: true }).click()
  await expect(page.getByTestId('calc-installment')).toHaveText('¥475.44')
  await expect(page.getByTestId('calc-paid-at-disbursement')).toHaveCount(0)
})

test('every repayment method of the engine gives a schedule', async ({ page }) => {
  await page.goto('/calculator')
  await expect(page.getByTestId('calc-installment')).toHaveText('¥888.49')
  for (const name of ['等额本金', '按月付息，到期还本', '按季付息，到期还本', '到期一次还本付息', '等额本息']) {
    await page.getByTestId('calc-method').selectOption({ label: name })
    await expect(page.getByTestId('calc-schedule').locator('tbody tr').first()).toBeVisible()
  }
  await expect(page.getByTestId('calc-installment')).toHaveText('¥888.49')
})

test('on a phone: the result is in view, an invalid amount clears it, the schedule shows it scrolls', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 })
  await page.goto('/calculator')
  // The summary is below the inputs: the result bar shows the figures at once and leads to the summary.
  const bar = page.getByTestId('calc-result-bar')
  await expect(bar).toContainText('¥888.49')
  await expect(bar).toContainText('12.00%')
  await page.getByTestId('calc-see-result').click()
  await expect(page.getByTestId('calc-summary')).toBeInViewport()
  await expect(bar).toBeHidden()

  // An invalid amount: no figures left standing as if they answered it.
  await page.getByTestId('calc-amount').fill('abc')
  await expect(page.getByTestId('calc-invalid')).toBeVisible()
  await expect(page.getByTestId('calc-summary')).toHaveCount(0)
  await expect(page.getByTestId('calc-installment')).toHaveCount(0)
  await expect(bar).toContainText('请先修正标红的输入')
  await expect(page.getByText('请输入金额，例如 8000 或 8000.50')).toBeVisible()
  await page.getByTestId('calc-amount').fill('20000')
  await expect(page.getByTestId('calc-invalid')).toHaveCount(0)
  await expect(page.getByTestId('calc-installment')).toHaveText('¥1,776.98')

  // The schedule is wider than the phone: a hint, a sticky first column and a shadow on the hidden side.
  const frame = page.getByTestId('calc-schedule-frame')
  await frame.scrollIntoViewIfNeeded()
  await expect(page.getByTestId('calc-scroll-hint')).toBeVisible()
  await expect(frame).toHaveClass(/more-right/)
  await page.getByRole('region', { name: '还款计划' }).evaluate((el) => el.scrollTo({ left: el.scrollWidth }))
  await expect(frame).not.toHaveClass(/more-right/)
  await expect(frame).toHaveClass(/more-left/)
  const firstCell = page.getByTestId('calc-schedule').locator('tbody tr').first().locator('td').first()
  await expect(firstCell).toBeInViewport()
  await expect(firstCell).toHaveText('1')
})
