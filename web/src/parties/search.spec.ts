import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { exportBorrowers, searchBody, searchBorrowers } from './search'
import BorrowerListView from './views/BorrowerListView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi, requests } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me } from '@/test/fixtures'

const ID = '36010219900101001X'
const row = {
  id: 3, user_id: 9, institution_id: 1, branch_id: 1, real_name: '王芳', id_number_masked: '360102********001X',
  phone_masked: '137****5678', gender: 'female', birth_year: 1990, customer_type: 'consumer', occupation: null, employer: null,
  email: null, province: null, city: null, address: null, monthly_income: null, total_assets: null, total_liabilities: null,
  channel: 'online', created_at: '2026-11-25T01:00:00Z', updated_at: '2026-11-25T01:00:00Z',
}
const page = { items: [row], total: 1, page: 1, page_size: 20 }

describe('the borrower search', () => {
  beforeEach(() => {
    URL.createObjectURL = vi.fn(() => 'blob:borrowers')
    URL.revokeObjectURL = vi.fn()
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined)
  })
  afterEach(() => vi.restoreAllMocks())

  it('sends only the fields the API knows, with their types', () => {
    expect(searchBody({ q: ` ${ID} `, customer_type: 'farmer', channel: 'branch', branch_id: 2, page: 3, page_size: 50, sort: '-created_at' }))
      .toEqual({ q: ID, customer_type: 'farmer', channel: 'branch', branch_id: 2, page: 3, page_size: 50, sort: '-created_at' })
    expect(searchBody({ q: '', customer_type: 'nobody', channel: 'fax', branch_id: '2', role: 'x' })).toEqual({})
  })

  it('puts a full ID number in the body, never in the URL', async () => {
    fakeApi({ 'POST /api/v1/borrowers/search': { body: page } })
    const answer = await searchBorrowers({ q: ID, page: 1, page_size: 20 })
    expect(answer.items[0].real_name).toBe('王芳')
    expect(requests[0].method).toBe('POST')
    expect(new URL(requests[0].url).search).toBe('')
    expect(requests[0].url).not.toContain(ID)
    expect(await requests[0].json()).toEqual({ q: ID, page: 1, page_size: 20 })
  })

  it('exports every page of the same search, also by POST', async () => {
    fakeApi({ 'POST /api/v1/borrowers/search/export': { body: 'xlsx', headers: { 'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } } })
    await exportBorrowers({ q: '13712345678', channel: 'online', page: 2, page_size: 20, sort: 'name' })
    expect(requests[0].method).toBe('POST')
    expect(new URL(requests[0].url).pathname).toBe('/api/v1/borrowers/search/export')
    expect(requests[0].url).not.toContain('13712345678')
    expect(await requests[0].json()).toEqual({ q: '13712345678', channel: 'online', sort: 'name' })
    expect(URL.createObjectURL).toHaveBeenCalled()
  })

  it('the staff list searches and exports through the body', async () => {
    fakeApi({
      'POST /api/v1/borrowers/search': { body: page },
      'POST /api/v1/borrowers/search/export': { body: 'xlsx' },
    })
    const w = mountWithApp(BorrowerListView, { attachTo: document.body }, () => {
      useSession().me = me({ permissions: ['borrower.read', 'borrower.export'] })
    })
    await flush()
    expect(await requests[0].json()).toEqual({ page: 1, page_size: 20 })
    await w.find('[data-testid=borrower-search]').setValue(ID)
    await w.find('form').trigger('submit')
    await flush()
    const search = requests.filter((r) => r.url.endsWith('/api/v1/borrowers/search'))
    expect(search).toHaveLength(2)
    expect(await search[1].json()).toEqual({ q: ID, page: 1, page_size: 20 })
    expect(requests.every((r) => !r.url.includes(ID))).toBe(true)
    await nextTick()
    expect(w.text()).toContain('王芳')
    await w.find('[data-testid=export]').trigger('click')
    await vi.waitFor(() => expect(requests.some((r) => r.url.endsWith('/search/export'))).toBe(true))
    const exported = requests.find((r) => r.url.endsWith('/search/export'))!
    expect(await exported.json()).toEqual({ q: ID })
    w.unmount()
  })
})
