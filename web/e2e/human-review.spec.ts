// A borrower declined by the automated review asks for a person to look at it (PIPL Art. 24; issue 16,
// capability 5). Set up through the API: a new borrower applies with debts beyond the product's limit
// and is declined automatically. On a 375 px phone the borrower sees the reasons and the offer of a
// human review, asks for it with a note, and sees the application go to people; the form is gone (once
// per application). The branch's level-1 approver finds it in the queue, marked as a human review
// request, with the borrower's note.
import { test, expect } from './fixtures'
import { APPROVER_L1_BR01, borrowerLogin, drawn, expectAccessible, registerBorrower, staffLogin } from './helpers'

test('a borrower declined automatically asks for a human review and it reaches the level-1 queue', async ({ browser, baseURL, page, request }) => {
  const b = await registerBorrower(request)
  const headers = { Authorization: `Bearer ${b.token}`, 'X-Device-Id': `e2e-human-review-${b.phone}` }
  await page.goto('/')
  for (const type of ['id_card', 'bank_statement']) { // without them the review asks for documents first
    const up = await request.post('/api/v1/me/documents', { headers, multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } } })
    expect(up.status(), await up.text()).toBe(201)
  }
  const draft = await request.post('/api/v1/me/applications', {
    headers,
    data: { product_code: 'CONSUMER', amount: '10000.00', term: 12, repayment_method: 'equal_installment', purpose: 'consumption', monthly_income: '6000.00', monthly_debt_payments: '5000.00', monthly_spending: '800.00' },
  })
  expect(draft.status(), await draft.text()).toBe(201)
  const id = (await draft.json()).id as number
  const submitted = await request.post(`/api/v1/me/applications/${id}/submit`, { headers })
  expect(submitted.status(), await submitted.text()).toBe(200)
  expect((await submitted.json()).status).toBe('declined')
  const number = (await submitted.json()).number as string

  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, b.phone, b.password)
  await page.goto(`/applications/${id}`)
  await expect(page.getByTestId('application-status')).toHaveText('未通过')
  await expect(page.getByTestId('decline-reasons')).toBeVisible()
  const form = page.getByTestId('human-review')
  await expect(form).toBeVisible()
  await expect(page.getByLabel('补充说明（可选）')).toBeVisible()
  await page.getByLabel('补充说明（可选）').fill('另一笔贷款下月结清，请人工复核')
  await page.getByTestId('human-review-request').click()
  await expect(page.getByTestId('application-status')).toHaveText('人工复核中')
  await expect(form).toHaveCount(0)
  await expect(page.getByTestId('application-timeline')).toContainText('申请人工复核')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(page, 'borrower after asking for a human review')

  // Once per application: asking again is refused with a code, not a second request.
  const again = await request.post(`/api/v1/me/applications/${id}/human-review`, { headers, data: {} })
  expect(again.status()).toBe(409)

  const staff = await browser.newContext({ baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block' })
  const approver = await staff.newPage()
  await staffLogin(approver, APPROVER_L1_BR01.phone)
  await approver.goto('/staff/reviews?level=1')
  const row = approver.getByTestId('queue-table').locator('tbody tr', { hasText: number })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('人工复核申请')
  await row.getByRole('link').click()
  await expect(approver.getByTestId('review-status')).toHaveText('人工复核中')
  await expect(approver.getByTestId('application-timeline')).toContainText('另一笔贷款下月结清，请人工复核')
  await staff.close()
})
