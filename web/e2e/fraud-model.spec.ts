// The fraud check's anomaly model trained from the institution's own applications, through the screens.
// The demo risk officer (孙伟) opens 风控 › 欺诈异常模型: the built-in model is in force. He trains a new
// version from the demo's submitted applications (the servers of this suite accept 15 as enough, see
// fixtures.ts; production needs 200) with 5 % sent for review, sees the sample size, the threshold and the
// score distribution, and proposes it; he cannot approve his own proposal. The second risk officer (林峰)
// approves it, and it is in force with its threshold. The model in force changes the fraud check of every
// later application, so this spec runs on a server of its own.
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, RISK_OFFICER, expectAccessible, screenshot, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 }, isolatedServer: true })
const SECOND_RISK_OFFICER = { phone: '13900000012' } // 林峰, 风控主管

test('a risk officer trains the anomaly model from the applications, a second one puts it in force', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000)
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-fraud-model').click()
  await expect(page.getByRole('heading', { name: '欺诈异常模型', exact: true })).toBeVisible()
  await expect(page.getByTestId('anomaly-in-force')).toHaveText('内置模型（合成样本训练）')
  await expect(page.getByTestId('anomaly-threshold')).toHaveText('0.6800')
  await expect(page.getByTestId('anomaly-none')).toBeVisible()

  // Train with 5 % of the usual intake sent for review.
  const contamination = page.getByTestId('anomaly-contamination').locator('input')
  await contamination.fill('5')
  await contamination.blur()
  await page.getByTestId('anomaly-note').fill('演示申请训练')
  await page.getByTestId('anomaly-train').click()
  const version = page.getByTestId('anomaly-version-1')
  await expect(version).toBeVisible()
  await expect(page.getByTestId('anomaly-status-1')).toHaveText('草稿')
  await expect(page.getByTestId('anomaly-sample-1')).toContainText('18 笔申请')
  await expect(version).toContainText('5.0%')
  const threshold = (await page.getByTestId('anomaly-version-threshold-1').textContent())!.trim()
  expect(Number(threshold)).toBeGreaterThanOrEqual(0.55)
  const rows = page.getByTestId('anomaly-histogram-1').locator('tbody tr')
  await expect(rows).toHaveCount(12)
  const counts = await page.getByTestId('anomaly-histogram-1').locator('tbody td:first-of-type').allTextContents()
  expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBe(18)
  // Still the built-in model until a second officer approves.
  await expect(page.getByTestId('anomaly-in-force')).toHaveText('内置模型（合成样本训练）')

  await version.getByTestId('anomaly-propose-reason').fill('本机构申请分布与合成样本不同')
  await version.getByTestId('anomaly-propose').click()
  await expect(version.getByTestId('anomaly-yours')).toBeVisible()
  await expect(version.getByTestId('anomaly-approve')).toHaveCount(0)
  await expectAccessible(page, 'fraud anomaly model')
  await screenshot(page, 'risk-fraud-model', true)

  // The second risk officer approves: the version is in force with its own threshold.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const second = await ctx.newPage()
  await staffLogin(second, SECOND_RISK_OFFICER.phone, DEMO_PASSWORD)
  await second.getByTestId('menu-risk-fraud-model').click()
  const pending = second.getByTestId('anomaly-version-1')
  await pending.getByTestId('anomaly-decision-reason').fill('样本与阈值已复核')
  await pending.getByTestId('anomaly-approve').click()
  await expect(second.getByTestId('anomaly-status-1')).toHaveText('生效中')
  await expect(second.getByTestId('anomaly-in-force')).toHaveText('fraud_anomaly@1')
  await expect(second.getByTestId('anomaly-threshold')).toHaveText(threshold)
  await ctx.close()
})
