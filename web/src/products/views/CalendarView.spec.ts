import { describe, expect, it, vi } from 'vitest'
import CalendarView from './CalendarView.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'
import { useSession } from '@/identity/stores/session'

const uncovered = { year: 2027, covered: false, coverage_source: null, coverage_updated_at: null, days: [] }
const spring = { id: 5, day: '2027-02-11', kind: 'holiday', name_zh: '春节', name_en: 'Spring Festival', source: 'manual', created_at: '2026-11-25T02:00:00Z', updated_at: '2026-11-25T02:00:00Z', updated_by_user_id: 1 }

function signIn(permissions: string[]) {
  return () => {
    useSession().me = me({ permissions })
  }
}

// Twelve month grids and Element Plus's table take a few seconds to mount in jsdom on a busy machine.
describe('the holiday calendar page', { timeout: 30_000 }, () => {
  it('warns about an uncovered year and offers readers no edits', async () => {
    fakeApi({ 'GET /api/v1/calendar/2026': { body: { ...uncovered, year: 2026 } } })
    const w = mountWithApp(CalendarView, { attachTo: document.body }, signIn(['calendar.read']))
    await vi.waitFor(() => expect(w.find('[data-testid=calendar-uncovered]').exists()).toBe(true))
    expect(w.text()).toContain('2026 年的节假日数据尚未确认完整')
    expect(w.find('[data-testid=calendar-add]').exists()).toBe(false)
    expect(w.find('[data-testid=calendar-mark-covered]').exists()).toBe(false)
    expect(w.findAll('.month')).toHaveLength(12)
    expect(w.find('button.cell').exists()).toBe(false)
    w.unmount()
  })

  it('lets an administrator mark the year covered, and the warning goes', async () => {
    fakeApi({
      'GET /api/v1/calendar/2026': { body: { ...uncovered, year: 2026, days: [{ ...spring, day: '2026-02-17' }] } },
      'PUT /api/v1/calendar/years/2026': { body: { year: 2026, covered: true, coverage_source: 'manual', coverage_updated_at: '2026-11-25T02:00:00Z', days: [] } },
    })
    const w = mountWithApp(CalendarView, { attachTo: document.body }, signIn(['calendar.read', 'calendar.manage']))
    await vi.waitFor(() => expect(w.find('[data-testid=calendar-mark-covered]').exists()).toBe(true))
    expect(w.find('td.holiday button').attributes('aria-label')).toMatch(/星期二.*春节.*节假日/)
    await w.find('[data-testid=calendar-mark-covered]').trigger('click')
    await vi.waitFor(() => expect(w.find('[data-testid=calendar-covered]').exists()).toBe(true))
    expect(w.find('[data-testid=calendar-uncovered]').exists()).toBe(false)
    const put = requests.find((r) => r.method === 'PUT')!
    expect(await put.json()).toEqual({ covered: true })
    w.unmount()
  })

  it('refuses a make-up working day on a weekday before asking the API, and shows the API’s refusals by field', async () => {
    fakeApi({
      'GET /api/v1/calendar/2026': { body: { ...uncovered, year: 2026 } },
      'POST /api/v1/calendar/days': { status: 409, body: problem(409, 'calendar_day_exists', '日历中已有 2026-02-17 的记录，请修改该记录', 'day') },
    })
    const w = mountWithApp(CalendarView, { attachTo: document.body }, signIn(['calendar.read', 'calendar.manage']))
    await vi.waitFor(() => expect(w.find('button.cell').exists()).toBe(true))
    await w.find('button.cell[data-date="2026-02-17"]').trigger('click') // a Tuesday
    await vi.waitFor(() => expect(document.body.textContent).toContain('新增日期'))
    const dialog = document.body.querySelector('.el-dialog')!
    ;(dialog.querySelector('input[value="working_day"]') as HTMLInputElement).click()
    await vi.waitFor(() => expect(dialog.textContent).toContain('调休上班日只能是周六或周日'))
    ;(dialog.querySelector('input[value="holiday"]') as HTMLInputElement).click()
    const name = dialog.querySelector('[data-testid=calendar-name-zh] input, input[data-testid=calendar-name-zh]') as HTMLInputElement
    name.value = '春节'
    name.dispatchEvent(new Event('input'))
    ;(dialog.querySelector('[data-testid=calendar-save]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true))
    expect(await requests.find((r) => r.method === 'POST')!.json()).toEqual({ day: '2026-02-17', kind: 'holiday', name_zh: '春节', name_en: null })
    await vi.waitFor(() => expect(dialog.textContent).toContain('日历中已有 2026-02-17 的记录'))
    w.unmount()
  })
})
