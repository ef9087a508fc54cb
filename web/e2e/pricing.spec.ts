// Risk-based price and limit (issue 19 §3). An administrator gives a new product a limit for every grade
// (¥5,000) and a 50 % bound by income in the editor and publishes it; a clean borrower asks ¥8,000; the
// decision refers it with the offer; the borrower, on a 375 px phone, reads the offer in plain words; the
// first-level approver sees the affordability block and counter-offers at the offer with one click; the
// borrower accepts it. A new product, so that the demo's products and the other specs' outcomes stay.
import { test, expect } from './fixtures'
import {
  ADMIN, APPROVER_L1_BR01, DEMO_PASSWORD, borrowerLogin, cleanIdNumber, currentConsents, drawn, expectAccessible,
  randomName, randomPhone, screenshot, smsCode, staffLogin, token,
} from './helpers'

test('a grade limit set in the editor: a borrower asking more sees the offer, a reviewer counters it, the borrower accepts', async ({ page, request, browser, baseURL }) => {
  // The administrator: a product with a ¥5,000 limit for every grade and a 50 % bound.
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  const code = `LIM${Date.now() % 100000}`
  await page.getByTestId('menu-products').click()
  await page.getByTestId('product-create').click()
  await page.getByTestId('product-code').fill(code)
  await page.getByTestId('product-name-zh').fill(`限额产品${code}`)
  await page.getByTestId('product-name-en').fill(`Limited product ${code}`)
  await page.getByTestId('product-amount-min').fill('1000.00')
  await page.getByTestId('product-amount-max').fill('20000.00')
  await page.getByTestId('product-rate').fill('10')
  await page.getByTestId('product-limits-on').click()
  // A worse grade with a higher limit is refused beside the table before the server is asked.
  for (const g of ['A', 'B', 'C', 'D']) await page.getByTestId(`product-limit-${g}`).fill('5000.00')
  await page.getByTestId('product-limit-E').fill('6000.00')
  await page.getByTestId('product-save').click()
  await expect(page.getByTestId('product-limits-error')).toContainText('风险等级越差额度上限不能越高')
  await page.getByTestId('product-limit-E').fill('5000.00')
  await page.getByTestId('product-max-dsr').fill('50')
  await page.getByTestId('product-save').click()
  await expect(page).toHaveURL(new RegExp(`/staff/products/${code}$`))
  await page.getByTestId('product-publish').click()
  await expect(page.getByTestId('product-status')).toHaveText('已发布')
  await expect(page.getByTestId('product-limit-C')).toHaveValue('5000.00')
  await expect(page.getByTestId('product-max-dsr')).toHaveValue('50')
  await expectAccessible(page, 'product editor with limits by grade')
  await screenshot(page, 'product-editor-limits')

  // A clean borrower (ID card on file) asks ¥8,000 over 6 months with a ¥50,000 income: above the grade's limit.
  const phone = randomPhone()
  const password = 'Spring-Rain-2026'
  expect((await request.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const registered = await request.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(request, phone), real_name: randomName(), id_number: cleanIdNumber(), password, consents: await currentConsents(request) },
  })
  expect(registered.status(), await registered.text()).toBe(202)
  const hb = { Authorization: `Bearer ${await token(request, phone, 'borrower', password)}`, 'X-Device-Id': `e2e-pricing-${phone}` }
  const up = await request.post('/api/v1/me/documents', { headers: hb, multipart: { type: 'id_card', file: { name: 'id_card.jpg', mimeType: 'image/jpeg', buffer: await drawn(page) } } })
  expect(up.status(), await up.text()).toBe(201)
  const draft = await request.post('/api/v1/me/applications', {
    headers: hb,
    data: { product_code: code, amount: '8000.00', term: 6, repayment_method: 'equal_installment', purpose: 'education', monthly_income: '50000.00', monthly_spending: '2500.00' },
  })
  expect(draft.status(), await draft.text()).toBe(201)
  const id = (await draft.json()).id as number
  const submitted = await (await request.post(`/api/v1/me/applications/${id}/submit`, { headers: hb })).json()
  expect(submitted.status).toBe('referred')
  expect([submitted.offer, submitted.offer_reason]).toEqual(['5000.00', 'grade_limit'])

  // The borrower reads the offer in plain words on a phone.
  const phoneContext = await browser.newContext({ baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block', viewport: { width: 375, height: 812 } })
  const mine = await phoneContext.newPage()
  await borrowerLogin(mine, phone, password)
  await mine.goto(`/applications/${id}`)
  await expect(mine.getByTestId('my-offer')).toContainText('5,000.00')
  await expect(mine.getByTestId('my-offer')).toContainText('8,000.00')
  expect(await mine.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(mine, 'borrower application with an offer')
  await screenshot(mine, 'borrower-offer', true)

  // The first-level approver sees the figures and counter-offers at the offer with one click.
  const staff = await browser.newContext({ baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block', viewport: { width: 1366, height: 900 } })
  const approver = await staff.newPage()
  await staffLogin(approver, APPROVER_L1_BR01.phone)
  await approver.goto(`/staff/applications/${id}/review`)
  const block = approver.getByTestId('review-affordability')
  await expect(block).toBeVisible()
  await expect(approver.getByTestId('review-offer')).toHaveText('¥5,000.00')
  await expect(block).toContainText('超出该风险等级的额度上限')
  await expectAccessible(approver, 'review screen with the affordability block')
  await screenshot(approver, 'review-affordability', true)
  // A counter-offer between the offer and the ask still goes against the model: the override reason
  // appears for ¥6,000 and goes away at the offer.
  await approver.getByTestId('review-action-counter_offer').click()
  await expect(approver.getByTestId('review-offer-hint')).toContainText('5,000.00')
  await approver.getByTestId('review-counter-amount').fill('6000.00')
  await expect(approver.getByTestId('review-override')).toBeVisible()
  await approver.getByTestId('review-counter-amount').fill('5000.00')
  await expect(approver.getByTestId('review-override')).toHaveCount(0)
  await approver.getByTestId('review-counter-at-offer').click()
  await expect(approver.getByTestId('review-status')).toHaveText('调整方案待确认')
  await staff.close()

  // The borrower accepts: the amount becomes the offer and the review goes on.
  await mine.reload()
  await expect(mine.getByTestId('counter-offer')).toContainText('5,000.00')
  await mine.getByTestId('counter-accept').click()
  await expect(mine.getByTestId('application-timeline')).toContainText('借款人接受调整')
  const after = await (await request.get(`/api/v1/me/applications/${id}`, { headers: hb })).json()
  expect([after.amount, after.counter_amount]).toEqual(['5000.00', null])
  await phoneContext.close()
})
