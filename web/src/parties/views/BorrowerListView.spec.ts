import { describe, expect, it, vi } from 'vitest'
import BorrowerListView from './BorrowerListView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests } from '@/test/fetch'
import { flush, mountWithAppAt } from '@/test/mount'
import { me } from '@/test/fixtures'

const row = {
  id: 3, user_id: 9, institution_id: 1, branch_id: null, branch_assignment: null, real_name: '王芳', id_number_masked: '640102********001X',
  phone_masked: '137****5678', gender: 'female', birth_year: 1990, customer_type: 'consumer', occupation: null, employer: null,
  email: null, province: null, city: null, address: null, monthly_income: null, total_assets: null, total_liabilities: null,
  channel: 'online', created_at: '2026-11-25T01:00:00Z', updated_at: '2026-11-25T01:00:00Z',
}
const branches = { items: [{ id: 1, institution_id: 1, code: 'BR01', name: '城关支行', name_en: null, region_code: '360102', address: null, status: 'active', created_at: '' }], total: 1, page: 1, page_size: 100 }
const manager = () => {
  useSession().me = me({ roles: ['branch_manager'], scope: 'institution', branch_id: null, permissions: ['borrower.read', 'borrower.update', 'branch.read', 'user.unlock'] })
}
// Generous waits: the suite shares a busy machine.
const WAIT = { timeout: 5000 }
const searches = () => requests.filter((r) => r.url.endsWith('/api/v1/borrowers/search'))

describe('the borrower list’s views', () => {
  it('opens on the unassigned from the to-do’s link, and places a borrower in a branch', async () => {
    fakeApi({
      'POST /api/v1/borrowers/search': { body: { items: [row], total: 1, page: 1, page_size: 20 } },
      'GET /api/v1/branches': { body: branches },
      'PATCH /api/v1/borrowers/3': { body: { ...row, branch_id: 1, branch_assignment: 'staff' } },
    })
    const { wrapper: w } = await mountWithAppAt('/staff/borrowers?unassigned=1', BorrowerListView, { attachTo: document.body }, manager)
    await vi.waitFor(() => expect(w.find('[data-testid=unassigned-tag]').exists()).toBe(true), WAIT)
    expect(await searches()[0].json()).toEqual({ unassigned: true, page: 1, page_size: 20 })
    expect(w.find('[data-testid=unassigned-tag]').text()).toBe('未分配')
    await w.find('[data-testid=assign-branch]').trigger('click')
    await vi.waitFor(() => expect(document.querySelector('[data-testid=assign-branch-save]')).not.toBeNull(), WAIT)
    // Saving without a choice names the field; nothing is sent.
    document.querySelector<HTMLElement>('[data-testid=assign-branch-save]')!.click()
    await flush()
    expect(requests.some((r) => r.method === 'PATCH')).toBe(false)
    await vi.waitFor(() => expect(document.querySelector('.el-dialog .el-form-item__error')?.textContent).toContain('请选择网点'), WAIT)
    const option = [...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].find((li) => li.textContent === '城关支行 (BR01)')!
    option.click()
    await flush()
    document.querySelector<HTMLElement>('[data-testid=assign-branch-save]')!.click()
    await vi.waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true), WAIT)
    expect(await requests.find((r) => r.method === 'PATCH')!.json()).toEqual({ branch_id: 1 })
    // The list is asked again: the borrower has left the unassigned.
    await vi.waitFor(() => expect(searches()).toHaveLength(2), WAIT)
    w.unmount()
  })

  it('a branch officer has no tabs: only their branch, nothing to place', async () => {
    fakeApi({ 'POST /api/v1/borrowers/search': { body: { items: [], total: 0, page: 1, page_size: 20 } } })
    const { wrapper: w } = await mountWithAppAt('/staff/borrowers?unassigned=1', BorrowerListView, {}, () => {
      useSession().me = me()
    })
    await flush()
    expect(await searches()[0].json()).toEqual({ page: 1, page_size: 20 })
    expect(w.find('[data-testid=borrower-views]').exists()).toBe(false)
  })

  it('the locked view asks for locked accounts only', async () => {
    fakeApi({ 'POST /api/v1/borrowers/search': { body: { items: [], total: 0, page: 1, page_size: 20 } } })
    await mountWithAppAt('/staff/borrowers?locked=1', BorrowerListView, {}, manager)
    await flush()
    expect(await searches()[0].json()).toEqual({ locked: true, page: 1, page_size: 20 })
  })
})
