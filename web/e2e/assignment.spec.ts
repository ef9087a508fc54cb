// Issue 14 §6: the staff home's to-dos, placing online registrants in a branch, and the walk-in
// form's link to the borrower who already has an ID number.
//
// An administrator sets the institution's rule for online registrants to "staff assign them"; a
// borrower registers online and waits without a branch; the branch manager's home counts them, the
// to-do opens the unassigned list, the manager assigns the borrower to 城关支行 and the count goes
// down; that branch's loan officer then finds them. The rule is set back afterwards (the worker's
// server is shared by the specs it runs).
import { test, expect, type Page } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, OFFICER_BR01, expectAccessible, randomName, randomPhone, registerBorrower, screenshot, staffLogin } from './helpers'

async function setOnlineRule(page: Page, rule: 'region' | 'none') {
  await page.getByTestId('menu-institutions').click()
  await page.getByTestId('institution-edit').first().click()
  await page.getByTestId(`rule-${rule}`).click()
  await page.getByTestId('institution-save').click()
  await expect(page.getByTestId('institution-rule').first()).toHaveText(rule === 'none' ? '人工分配' : '按地区')
}

/** The count of the to-do `code` on the staff home (0 when it is not listed). */
async function todoCount(page: Page, code: string): Promise<number> {
  await page.goto('/staff')
  await expect(page.getByTestId('todos').locator('[data-testid^=todo-]').or(page.getByTestId('todos-empty')).first()).toBeVisible()
  const item = page.getByTestId(`todo-${code}`)
  return (await item.count()) ? Number(await item.getByTestId('todo-count').textContent()) : 0
}

test.describe('to-dos and branch assignment (1366 px)', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('a manager assigns an unassigned online registrant; the to-do count goes down; the branch officer sees them', async ({ page, browser, api, baseURL }) => {
    test.setTimeout(150_000) // three people sign in, and the page is checked for accessibility twice
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
    await setOnlineRule(page, 'none')
    try {
      const b = await registerBorrower(api)

      const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
      const manager = await ctx.newPage()
      await staffLogin(manager, BRANCH_MANAGER.phone)
      const before = await todoCount(manager, 'borrowers_unassigned')
      expect(before).toBeGreaterThanOrEqual(1)
      await expect(manager.getByTestId('todo-borrowers_unassigned')).toContainText('未分配网点的借款人')
      await screenshot(manager, 'staff-home-todos')
      await expectAccessible(manager, 'staff home with to-dos')

      // The to-do opens the list of borrowers without a branch.
      await manager.getByTestId('todo-borrowers_unassigned').click()
      await expect(manager).toHaveURL(/\/staff\/borrowers\?unassigned=1$/)
      await expect(manager.getByRole('tab', { name: '未分配网点' })).toHaveAttribute('aria-selected', 'true')
      const row = manager.getByTestId('borrower-table').locator('tr', { hasText: b.name })
      await expect(row.getByTestId('unassigned-tag')).toHaveText('未分配')
      await row.getByTestId('assign-branch').click()
      await expect(manager.getByRole('dialog')).toBeVisible()
      await expectAccessible(manager, 'unassigned borrowers with the assign dialog')
      await manager.getByTestId('assign-branch-select').click()
      await manager.getByRole('option', { name: '城关支行 (BR01)' }).click()
      await manager.getByTestId('assign-branch-save').click()
      await expect(manager.locator('.el-message')).toContainText(`${b.name} 已分配到城关支行`)
      await expect(manager.getByTestId('borrower-table')).not.toContainText(b.name)

      expect(await todoCount(manager, 'borrowers_unassigned')).toBe(before - 1)

      // In English the list names the branch in English and how the borrower came to it.
      await manager.getByTestId('menu-borrowers').click()
      await manager.getByTestId('borrower-search').fill(b.name)
      await manager.getByTestId('search-submit').click()
      await manager.getByTestId('language-switch').click()
      const placed = manager.getByTestId('borrower-table').locator('tr', { hasText: b.name })
      await expect(placed).toContainText('Chengguan Branch')
      await expect(placed.getByTestId('assignment')).toHaveText('assigned by staff')
      await ctx.close()

      // The branch's loan officer now sees the borrower.
      const ctx2 = await browser.newContext({ baseURL, viewport: { width: 1024, height: 800 } })
      const officer = await ctx2.newPage()
      await staffLogin(officer, OFFICER_BR01.phone)
      await officer.getByTestId('menu-borrowers').click()
      await officer.getByTestId('borrower-search').fill(b.name)
      await officer.getByTestId('search-submit').click()
      await expect(officer.getByTestId('borrower-table')).toContainText(b.name)
      await ctx2.close()
    } finally {
      await setOnlineRule(page, 'region')
    }
  })
})

test.describe('walk-in registration (1024 px)', () => {
  test.use({ viewport: { width: 1024, height: 800 } })

  test('a duplicate ID number links to the borrower who has it', async ({ page, api }) => {
    const b = await registerBorrower(api) // online, region 360102: placed in 城关支行 by the demo's rule
    await staffLogin(page, OFFICER_BR01.phone)
    await page.getByTestId('menu-borrower-new').click()
    await page.getByTestId('real-name').fill(randomName())
    await page.getByTestId('id-number').fill(b.idNumber)
    await page.getByTestId('phone').fill(randomPhone())
    await page.getByTestId('consent-signed').click()
    await page.getByTestId('walk-in-submit').click()

    const input = page.getByTestId('id-number')
    await expect(input).toHaveAttribute('aria-invalid', 'true')
    const link = page.getByTestId('conflict-id_number').getByTestId('conflict-link')
    await expect(link).toHaveText(`已登记：查看${b.name}的资料`)
    // The message and the link are read with the field.
    const describedBy = (await input.getAttribute('aria-describedby'))!.split(' ')
    await expect(page.locator(`[id="${describedBy[0]}"]`)).toHaveText('该身份证号码已注册')
    expect(describedBy).toContain(await page.getByTestId('conflict-id_number').getAttribute('id'))
    await screenshot(page, 'walk-in-duplicate')
    await expectAccessible(page, 'walk-in form with a duplicate')
    await link.click()
    await expect(page).toHaveURL(/\/staff\/borrowers\/\d+$/)
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(b.name)
  })
})

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

test.describe('the new screens at 1024 and 1366 px, in both languages', () => {
  for (const width of [1024, 1366]) {
    test(`${width} px: no page scrolls sideways, no label cut inside a word`, async ({ page }) => {
      test.setTimeout(120_000) // sixteen pages and two dialogs, each read to the last label
      await page.setViewportSize({ width, height: 800 })
      await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
      for (const lang of ['zh-CN', 'en']) {
        if (lang === 'en') await page.getByTestId('language-switch').click()
        for (const path of ['/staff', '/staff/borrowers?unassigned=1', '/staff/staff?locked=1', '/staff/login-history', '/staff/audit-log', '/staff/branches', '/staff/institutions']) {
          await page.goto(path)
          await page.waitForLoadState('networkidle')
          const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth])
          expect(scrollWidth, `${lang} ${path} scrolls sideways`).toBeLessThanOrEqual(clientWidth)
          expect(await wordsCut(page, '.el-table th .cell, .el-form-item__label, .el-tabs__item, [data-testid^=todo-]'), `${lang} ${path}`).toEqual([])
        }
        await page.goto('/staff/institutions')
        await page.getByTestId('institution-edit').first().click()
        await expect(page.getByTestId('online-branch-rule')).toBeVisible()
        expect(await wordsCut(page, '.el-dialog .el-form-item__label, .el-dialog .el-radio'), `${lang} institution dialog`).toEqual([])
        await screenshot(page, `institution-online-rule-${lang}-${width}`)
        await page.keyboard.press('Escape')
      }
    })
  }

  test('sign-in history of one person; the audit log names the record', async ({ page, browser, baseURL }) => {
    const ctx = await browser.newContext({ baseURL })
    await staffLogin(await ctx.newPage(), OFFICER_BR01.phone) // a sign-in of 李强 to find
    await ctx.close()
    await page.setViewportSize({ width: 1024, height: 800 })
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
    await page.goto('/staff/login-history')
    await page.getByTestId('login-user').click()
    await page.keyboard.type('李强')
    await page.getByRole('option', { name: /李强/ }).click()
    const table = page.getByTestId('login-table')
    await expect(table.locator('tbody tr').first()).toContainText('李强')
    const users = await table.locator('tbody tr td:nth-child(2)').allInnerTexts()
    expect(new Set(users)).toEqual(new Set(['李强']))

    await page.goto('/staff/branches')
    await page.getByTestId('create-branch').click()
    const code = `N${Date.now() % 100000}`
    await page.getByTestId('branch-code').fill(code)
    await page.getByTestId('branch-name').fill(`名称网点${code}`)
    await page.getByTestId('branch-save').click()
    await expect(page.getByTestId('branch-table').locator('tr', { hasText: code }).getByTestId('branch-name-en')).toHaveText('未填写（显示中文名称）')
    await page.goto('/staff/audit-log')
    await expect(page.getByTestId('audit-target-name').first()).toHaveText(`名称网点${code}`)
  })
})
