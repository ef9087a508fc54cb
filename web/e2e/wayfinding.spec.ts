// Issue 14 §6, what a new user stumbled on: the borrower's own home, errors with their own fields,
// the SMS simulator named as such, 404 pages inside their app, toasts below the header, device names
// in the sign-in history, the audit log's names and filters, and labels that fit at 1366 px.
import { test, expect, type Page } from './fixtures'
import { ADMIN, DEMO_PASSWORD, borrowerLogin, registerBorrower, staffLogin } from './helpers'

test.describe('borrower app (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 } })

  test('a signed-in borrower sees their own home, without the registration pitch or staff words', async ({ page, api }) => {
    await page.goto('/')
    await expect(page.getByTestId('home-visitor')).toBeVisible()
    // Phone width: the way in is one full-width button under the other.
    const [register, login] = [await page.getByTestId('home-register').boundingBox(), await page.getByTestId('home-login').boundingBox()]
    expect(register!.width).toBeGreaterThan(330)
    expect(login!.y).toBeGreaterThan(register!.y + register!.height)

    const b = await registerBorrower(api)
    await borrowerLogin(page, b.phone, b.password)
    await page.goto('/')
    const home = page.getByTestId('home-borrower')
    await expect(home.getByRole('heading', { level: 1 })).toHaveText(`您好，${b.name}`)
    await expect(home).not.toContainText('营业日')
    await expect(page.getByTestId('home-register')).toHaveCount(0)
    await expect(page.getByTestId('home-loans')).toHaveAttribute('href', '/loans')
    await expect(page.getByTestId('home-applications')).toBeVisible()
    await page.getByTestId('home-devices').click()
    await expect(page).toHaveURL(/\/me#devices$/)
    await expect(page.getByTestId('sessions')).toBeInViewport()

    await page.getByTestId('language-switch').click()
    await page.getByTestId('tab-home').click()
    await expect(home).not.toContainText('Business date')
    await expect(home.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${b.name}`)
  })

  test('registration: each error with its own field; the code field is not wrong once the code is sent', async ({ page }) => {
    await page.goto('/register')
    await page.getByTestId('register-submit').click()
    for (const id of ['phone', 'code', 'real-name', 'id-number', 'password']) {
      const input = page.getByTestId(id)
      await expect(input).toHaveAttribute('aria-invalid', 'true')
      const describedBy = (await input.getAttribute('aria-describedby'))!.split(' ')
      const error = page.locator(`[id="${describedBy[0]}"]`)
      await expect(error).toHaveText('必填')
      // The message lies under its own input and above the next field's label.
      const [box, errorBox] = [await input.boundingBox(), await error.boundingBox()]
      expect(errorBox!.y).toBeGreaterThanOrEqual(box!.y + box!.height - 1)
      const item = input.locator('xpath=ancestor::div[contains(@class, "el-form-item")][1]')
      const next = item.locator('xpath=following-sibling::div[contains(@class, "el-form-item")][1]//label')
      if (await next.count()) expect(errorBox!.y + errorBox!.height).toBeLessThan((await next.boundingBox())!.y - 8)
    }
    await page.getByTestId('phone').fill(`137${String(Date.now()).slice(-8)}`)
    await page.getByTestId('send-code').click()
    await expect(page.getByText('验证码已发送')).toBeVisible()
    await expect(page.getByTestId('code')).not.toHaveAttribute('aria-invalid', 'true')
    await expect(page.getByTestId('code').locator('xpath=ancestor::div[contains(@class, "el-form-item")][1]')).not.toHaveClass(/is-error/)
    await expect(page.getByTestId('code')).toBeFocused()
  })

  test('the SMS simulator says it is the demo operator simulator; a 404 keeps the app’s frame', async ({ page }) => {
    await page.goto('/')
    await expect(page.getByTestId('tab-sms-inbox')).toContainText('短信模拟器')
    await expect(page.getByTestId('tab-sms-inbox').getByTestId('demo-badge')).toHaveText('演示')
    await page.getByTestId('tab-sms-inbox').click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('短信运营商模拟器（仅演示）')
    await expect(page.getByText('不是消息中心')).toBeVisible()

    await page.goto('/no/such/page')
    await expect(page.getByTestId('not-found')).toBeVisible()
    await expect(page.getByRole('navigation', { name: '主导航' })).toBeVisible()
    await expect(page.locator('main')).toHaveCount(1)
  })
})

async function messageBelowHeader(page: Page, header: string) {
  const toast = page.locator('.el-message').first()
  await expect(toast).toBeVisible()
  const headerBox = await page.locator(header).boundingBox()
  // The toast slides in from above: read its place once it has settled.
  await expect.poll(async () => (await toast.boundingBox())!.y).toBeGreaterThanOrEqual(headerBox!.y + headerBox!.height)
}

/** Words wider than their box: with breaking inside words switched off, the box overflows. */
async function wordsCut(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) =>
    els
      .filter((el) => {
        const e = el as HTMLElement
        const style = e.style.cssText
        e.style.overflowWrap = 'normal'
        e.style.wordBreak = 'normal'
        const cut = e.scrollWidth > e.clientWidth + 1
        e.style.cssText = style
        return cut && e.offsetParent !== null
      })
      .map((el) => (el as HTMLElement).innerText),
  )
}

test.describe('staff console', () => {
  test('1366 px, both languages: menu entries on one line, no header or label cut inside a word', async ({ page }) => {
    test.setTimeout(150_000) // fourteen pages, each to network idle: past a minute on a loaded 2-core machine
    await page.setViewportSize({ width: 1366, height: 900 })
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
    for (const lang of ['zh-CN', 'en']) {
      if (lang === 'en') await page.getByTestId('language-switch').click()
      for (const path of ['/staff/staff', '/staff/roles', '/staff/login-history', '/staff/audit-log', '/staff/branches', '/staff/institutions', '/staff/borrowers']) {
        await page.goto(path)
        await page.waitForLoadState('networkidle')
        expect(await wordsCut(page, '.el-table th .cell, .el-table td .cell, .el-form-item__label'), `${lang} ${path}`).toEqual([])
        const items = await page.getByTestId('staff-menu').locator('a').evaluateAll((as) =>
          as.filter((a) => (a as HTMLElement).scrollWidth > (a as HTMLElement).clientWidth || a.getBoundingClientRect().height > 44).map((a) => (a as HTMLElement).innerText),
        )
        expect(items, `${lang} menu`).toEqual([])
      }
    }
  })

  test('sign-in history names devices; audit log actions by name, filtered by a select; toasts below the header; 404 in the console', async ({ page }) => {
    await page.setViewportSize({ width: 1024, height: 768 })
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)

    await page.goto('/staff/login-history')
    const device = page.getByTestId('login-device').first()
    await expect(device).toHaveText(/^Chrome \(headless\) · Linux$/)
    await expect(device).toHaveAttribute('title', /Mozilla\/5\.0/)

    // The toast after saving sits below the header, not over it.
    await page.goto('/staff/branches')
    await page.getByTestId('create-branch').click()
    await page.getByTestId('branch-code').fill(`T${Date.now() % 100000}`)
    await page.getByTestId('branch-name').fill('测试网点')
    await page.getByTestId('branch-save').click()
    await messageBelowHeader(page, '.el-header')

    await page.goto('/staff/audit-log')
    await expect(page.getByTestId('audit-table')).toContainText('新建网点')
    await expect(page.getByTestId('audit-table')).not.toContainText('branch.created')
    // Verify and export sit with the title, not alone on a row of their own.
    const [title, exportButton] = [await page.getByRole('heading', { level: 1 }).boundingBox(), await page.getByTestId('export').boundingBox()]
    expect(Math.abs(exportButton!.y + exportButton!.height / 2 - (title!.y + title!.height / 2))).toBeLessThan(12)
    // No horizontal scrolling of the table at 1024 px.
    const scroll = await page.locator('[data-testid=audit-table] .el-scrollbar__wrap').first().evaluate((e) => e.scrollWidth - e.clientWidth)
    expect(scroll).toBeLessThanOrEqual(1)

    await page.getByTestId('audit-action').click()
    await page.getByRole('option', { name: /^新建网点/ }).click()
    await page.getByTestId('audit-search').click()
    const names = page.getByTestId('audit-action-name')
    await expect(names.first()).toHaveText('新建网点')
    expect(new Set(await names.allInnerTexts())).toEqual(new Set(['新建网点']))

    await page.getByTestId('language-switch').click()
    await expect(names.first()).toHaveText('Branch created')

    await page.goto('/staff/no-such-page')
    await expect(page.getByTestId('not-found')).toBeVisible()
    await expect(page.getByTestId('staff-menu')).toBeVisible()
    await page.getByTestId('not-found-home').click()
    await expect(page).toHaveURL(/\/staff$/)
  })
})
