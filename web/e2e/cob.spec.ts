// The close-of-business monitor: an administrator runs the close of business of the next business date
// from the console and watches every step fill its partitions until the run is done; the run is then
// listed among the past runs, and the page reads in English too.
import { test, expect } from './fixtures'
import { ADMIN, DEMO_PASSWORD, expectAccessible, screenshot, staffLogin, token } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })

test('an administrator runs the close of business from the console and watches it finish', async ({ page }) => {
  test.setTimeout(180_000) // a sign-in with TOTP, a run over the demo portfolio, an axe scan
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  // The past runs as first listed (the count is read once that answer is in: not from an empty table still loading).
  const listed = page.waitForResponse((r) => /\/api\/v1\/cob\/runs(\?|$)/.test(r.url()) && r.request().method() === 'GET')
  await page.getByTestId('menu-cob').click()
  await expect(page.getByRole('heading', { name: '日终批处理', level: 1 })).toBeVisible()
  const history = page.getByTestId('cob-runs')
  const before = Number((await (await listed).json()).total)

  await page.getByTestId('cob-start').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toContainText('下一营业日')
  await dialog.getByRole('button', { name: '开始日终' }).click()
  await expect(page.getByText(/的日终批处理已开始/)).toBeVisible()

  // The page polls the run: each step's partitions fill, then the run is done.
  const run = page.getByTestId('cob-run')
  await expect(run.getByTestId('cob-run-status')).toHaveText('已完成', { timeout: 150_000 })
  for (const step of ['advance', 'classify', 'autodebit', 'remind', 'collections', 'features', 'warnings', 'warning_concentration']) {
    await expect(run.getByTestId(`cob-state-${step}`)).toHaveText('完成')
  }
  await expect(run.getByTestId('cob-step-advance')).toHaveText('计提利息、逾期与罚息')
  // One more run listed (more when another test closed a day on the shared server meanwhile).
  await expect.poll(() => history.locator('tbody tr').count()).toBeGreaterThanOrEqual(Math.min(before + 1, 20))
  await expect(history.locator('tbody tr').first()).toContainText('已完成')
  await expectAccessible(page, '/staff/cob')
  await screenshot(page, 'staff-cob')

  // Starting the same date again is refused with the reason shown.
  const date = (await history.locator('tbody tr').first().locator('td').first().innerText()).trim()
  const picker = page.getByRole('combobox', { name: '营业日' })
  await picker.fill(date)
  await picker.press('Enter')
  await page.getByTestId('cob-start').click()
  await page.getByRole('dialog').getByRole('button', { name: '开始日终' }).click()
  await expect(page.getByText('日终日期必须晚于当前营业日')).toBeVisible()

  await page.getByTestId('language-switch').click()
  await expect(page.getByRole('heading', { name: 'Close of business', level: 1 })).toBeVisible()
  await expect(run.getByTestId('cob-run-status')).toHaveText('Done')
  await expect(run.getByTestId('cob-step-classify')).toHaveText('Classification and provision')
})

test("a late loan's page shows what the close of business found: bucket, class and provision", async ({ page, api }) => {
  // The demo's walk classified its loans on its last day; finance opens the most overdue one.
  const headers = { Authorization: `Bearer ${await token(api, '13900000009', 'staff', DEMO_PASSWORD)}` }
  const listed = await api.get('/api/v1/loans?sort=-dpd&page_size=1', { headers })
  const [late] = (await listed.json()).items
  expect(late.dpd).toBeGreaterThan(90)
  await staffLogin(page, '13900000009', DEMO_PASSWORD)
  await page.goto(`/staff/loans/${late.id}`)
  const standing = page.getByTestId('loan-standing')
  await expect(standing).toContainText('日终批处理结果')
  await expect(standing.getByTestId('standing-bucket')).toHaveText('逾期 91-180 天')
  await expect(standing.getByTestId('standing-class')).toHaveText('次级')
  await expect(standing.getByTestId('standing-provision')).toHaveText(/¥[1-9][\d,]*\.\d{2}/)
  await expectAccessible(page, 'loan page with its standing')
})
