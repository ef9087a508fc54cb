// Issue 14 §6: the staff home's to-dos, placing online registrants in a branch, and the walk-in
// form's link to the borrower who already has an ID number.
//
// An administrator sets the institution's rule for online registrants to "staff assign them"; a
// borrower registers online and waits without a branch; the branch manager's home counts them, the
// to-do opens the unassigned list, the manager assigns the borrower to 城关支行 and the count goes
// down; that branch's loan officer then finds them. The rule is set back afterwards (the worker's
// server is shared by the specs it runs).
import { test, expect, type Page } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, OFFICER_BR01, randomName, randomPhone, registerBorrower, screenshot, staffLogin } from './helpers'

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

      // The to-do opens the list of borrowers without a branch.
      await manager.getByTestId('todo-borrowers_unassigned').click()
      await expect(manager).toHaveURL(/\/staff\/borrowers\?unassigned=1$/)
      await expect(manager.getByRole('tab', { name: '未分配网点' })).toHaveAttribute('aria-selected', 'true')
      const row = manager.getByTestId('borrower-table').locator('tr', { hasText: b.name })
      await expect(row.getByTestId('unassigned-tag')).toHaveText('未分配')
      await row.getByTestId('assign-branch').click()
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
    await link.click()
    await expect(page).toHaveURL(/\/staff\/borrowers\/\d+$/)
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(b.name)
  })
})
