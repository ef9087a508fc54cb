// The model registry's maker–checker. Set up through the real API: the administrator creates a second
// risk officer; the demo risk officer (孙伟) registers two versions of a scorecard, and with the second
// officer's approvals the first becomes champion and the second challenger. Then in the browser: 孙伟
// proposes the challenger for champion and cannot approve his own proposal; the second risk officer
// (first signed in by SMS code, then with the password they chose) approves it; the challenger is champion and the old champion retired.
// The champion decides every later application of the institution, so this spec runs on a server of its own.
import { test, expect } from './fixtures'
import type { APIRequestContext } from '@playwright/test'
import { ADMIN, DEMO_PASSWORD, expectAccessible, freshTotp, randomName, randomPhone, screenshot, smsCode, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 }, isolatedServer: true })
const RISK_OFFICER = { phone: '13900000004' } // 孙伟, 风控专员

function scorecard(base: number) {
  const numeric = (name: string, splits: number[], points: number[], missing: number) => ({ name, kind: 'numeric', splits, points, missing_points: missing })
  return {
    format: 'microcredit.scorecard/1', target: 'default', scaling: { points: 600, odds: 50, pdo: 20 }, clip: [300, 900],
    grades: [['A', 720], ['B', 660], ['C', 600], ['D', 540]], base_points: base,
    features: [
      { ...numeric('inquiries_3m', [1.5, 3.5, 6.5], [40, 10, -30, -70], 0), label: { 'zh-CN': '近3个月硬查询次数', en: 'hard inquiries in 3 months' } },
      { ...numeric('dti_pct', [30, 50, 70], [45, 5, -45, -90], -90), label: { 'zh-CN': '贷后负债收入比', en: 'debt-to-income after the loan' } },
      { ...numeric('payment_on_time_ratio_12m', [0.7, 0.9], [-40, 0, 25], 0), label: { 'zh-CN': '12个月缴费按时率', en: 'bills paid on time in 12 months' } },
    ],
  }
}
const REPORT = { metrics: { auc: 0.76, ks: 0.41, gini: 0.52, brier: 0.05 }, roc: { fpr: [0, 0.1, 0.3, 1], tpr: [0, 0.4, 0.7, 1] },
  calibration: [{ mean_pd: 0.01, observed: 0.012 }, { mean_pd: 0.05, observed: 0.048 }],
  score_distribution: [{ low: null, high: 600, count: 300 }, { low: 600, high: 700, count: 500 }, { low: 700, high: null, count: 200 }] }

async function login(api: APIRequestContext, phone: string, totpSecret?: string): Promise<Record<string, string>> {
  const r = await api.post('/api/v1/auth/login', { data: { phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(r.ok(), await r.text()).toBeTruthy()
  let body = await r.json()
  if (body.status === 'mfa_required') {
    const second = await api.post('/api/v1/auth/login/totp', { data: { mfa_token: body.mfa_token, code: await freshTotp(totpSecret!) } })
    expect(second.ok(), await second.text()).toBeTruthy()
    body = await second.json()
  }
  return { Authorization: `Bearer ${body.token}` }
}

/** A new employee's first sign-in is by SMS code; they then choose a password (the answer's token is the new session's). */
async function firstSignIn(api: APIRequestContext, phone: string, password: string): Promise<Record<string, string>> {
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'login', kind: 'staff' } })).ok()).toBeTruthy()
  const r = await api.post('/api/v1/auth/login/sms', { data: { phone, code: await smsCode(api, phone), kind: 'staff' } })
  expect(r.ok(), await r.text()).toBeTruthy()
  const changed = await api.post('/api/v1/auth/password', { headers: { Authorization: `Bearer ${(await r.json()).token}` }, data: { new_password: password } })
  expect(changed.ok(), await changed.text()).toBeTruthy()
  return { Authorization: `Bearer ${(await changed.json()).token}` }
}

test('a risk officer proposes the challenger for champion, a second risk officer approves it, the old champion retires', async ({ page, browser, baseURL, api }) => {
  test.setTimeout(150_000)
  const code = `retail_${Date.now().toString(36)}`
  // The second risk officer, created by the administrator through the API.
  const secondPhone = randomPhone()
  const admin = await login(api, ADMIN.phone, ADMIN.totpSecret)
  const created = await api.post('/api/v1/staff', { headers: admin, data: { name: randomName(), employee_number: `RISK${Date.now() % 100000}`, phone: secondPhone, roles: ['risk_officer'] } })
  expect(created.ok(), await created.text()).toBeTruthy()
  const maker = await login(api, RISK_OFFICER.phone)
  const secondPassword = 'Autumn-Leaf-2026'
  const checker = await firstSignIn(api, secondPhone, secondPassword)

  // Two versions registered; v1 champion and v2 challenger, each approved by the second officer.
  for (const base of [480, 470]) {
    const r = await api.post('/api/v1/risk/models', { headers: maker, multipart: {
      code,
      artefact: { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(scorecard(base))) },
      report: { name: 'report.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(REPORT)) },
    } })
    expect(r.status(), await r.text()).toBe(201)
  }
  for (const [n, target] of [[1, 'champion'], [2, 'challenger']] as const) {
    const p = await api.post(`/api/v1/risk/models/${code}/versions/${n}/promotions`, { headers: maker, data: { target, reason: '初始设置' } })
    expect(p.status(), await p.text()).toBe(201)
    const a = await api.post(`/api/v1/risk/models/promotions/${(await p.json()).id}/approve`, { headers: checker, data: { reason: '复核同意' } })
    expect(a.ok(), await a.text()).toBeTruthy()
  }

  // 孙伟 opens the registry and the challenger's page, with its report's charts, and proposes it for champion.
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-models').click()
  await expect(page.getByRole('heading', { name: '信用模型', exact: true })).toBeVisible()
  await expect(page.getByTestId(`status-${code}-1`)).toHaveText('冠军')
  await expect(page.getByTestId(`status-${code}-2`)).toHaveText('挑战者')
  await page.getByTestId(`version-${code}-2`).click()
  await expect(page.getByTestId('version-status')).toHaveText('挑战者')
  await expect(page.getByTestId('metric-auc')).toHaveText('0.760')
  await expect(page.getByTestId('chart-roc')).toBeVisible()
  await expect(page.getByTestId('chart-calibration')).toBeVisible()
  await page.getByTestId('propose-reason').fill('挑战者 AUC 更高，影子期表现稳定')
  await page.getByTestId('propose-submit').click()
  await expect(page.getByText('已有待审批的申请')).toBeVisible()
  await expectAccessible(page, 'model version')
  await screenshot(page, 'risk-model-version', true)

  // His own proposal: he is told another officer decides, and has no approve button.
  await page.getByTestId('menu-risk-models').click()
  const proposal = page.getByTestId(`promotion-${code}-2`)
  await expect(proposal).toContainText('须由另一位风险专员审批')
  await expect(proposal.getByTestId('promotion-approve')).toHaveCount(0)

  // The second risk officer signs in and approves.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const second = await ctx.newPage()
  await staffLogin(second, secondPhone, secondPassword)
  await second.getByTestId('menu-risk-models').click()
  const pending = second.getByTestId(`promotion-${code}-2`)
  await pending.getByTestId('decision-reason').fill('验证报告已复核，同意晋级')
  await pending.getByTestId('promotion-approve').click()
  await expect(second.getByTestId(`status-${code}-2`)).toHaveText('冠军')
  await expect(second.getByTestId(`status-${code}-1`)).toHaveText('已退役')
  await expect(second.getByTestId('pending-promotions')).toHaveCount(0)
  await screenshot(second, 'risk-models-registry', true)
  await ctx.close()
})
