import { describe, expect, it } from 'vitest'
import StaffHomeView from './StaffHomeView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'

const manager = () => {
  useSession().me = me({ roles: ['branch_manager'], scope: 'institution', permissions: ['borrower.read', 'borrower.review_change', 'borrower.update', 'staff.read', 'user.unlock'] })
}

describe('the staff home', () => {
  it('lists the work waiting with its count, each a link to the page that resolves it', async () => {
    fakeApi({
      'GET /api/v1/me/todos': {
        body: { items: [{ code: 'profile_changes_pending', count: 3 }, { code: 'borrowers_unassigned', count: 2 }, { code: 'staff_locked', count: 0 }, { code: 'borrowers_locked', count: 1 }] },
      },
    })
    const w = mountWithApp(StaffHomeView, {}, manager)
    await flush()
    await flush()
    const review = w.find('[data-testid=todo-profile_changes_pending]')
    expect(review.text()).toBe('3待审核的资料变更')
    expect(review.attributes('href')).toBe('/staff/profile-changes')
    expect(w.find('[data-testid=todo-borrowers_unassigned]').attributes('href')).toBe('/staff/borrowers?unassigned=1')
    expect(w.find('[data-testid=todo-borrowers_locked]').attributes('href')).toBe('/staff/borrowers?locked=1')
    expect(w.find('[data-testid=todo-staff_locked]').exists()).toBe(false) // nothing waiting of that kind
    expect(w.find('[data-testid=todos-empty]').exists()).toBe(false)
  })

  it('says so when nothing waits', async () => {
    fakeApi({ 'GET /api/v1/me/todos': { body: { items: [{ code: 'profile_changes_pending', count: 0 }] } } })
    const w = mountWithApp(StaffHomeView, {}, manager)
    await flush()
    await flush()
    expect(w.find('[data-testid=todos-empty]').text()).toBe('暂无待办事项。')
    expect(w.findAll('[data-testid^=todo-]').length).toBe(0)
  })

  it('shows a failure with a retry instead of claiming nothing waits', async () => {
    fakeApi({ 'GET /api/v1/me/todos': { status: 403, body: problem(403, 'forbidden', '没有权限') } })
    const w = mountWithApp(StaffHomeView, {}, manager)
    await flush()
    await flush()
    expect(w.text()).toContain('没有权限')
    expect(w.find('[data-testid=todos-empty]').exists()).toBe(false)
  })
})
