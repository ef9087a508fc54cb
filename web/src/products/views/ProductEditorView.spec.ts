import { describe, expect, it, vi } from 'vitest'
import ProductEditorView from './ProductEditorView.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'
import { useSession } from '@/identity/stores/session'
import { emptyForm, termsFromForm } from '@/products/catalogue'

const terms = termsFromForm({ ...emptyForm('2026-01-01'), name_zh: '高息贷', name_en: 'Hot loan', annual_rate: '30' })
const draft = {
  number: 1, status: 'draft', terms, created_at: '2026-11-25T02:00:00Z', created_by_user_id: 1, updated_at: '2026-11-25T02:00:00Z',
  updated_by_user_id: 1, published_at: null, published_by_user_id: null, retired_at: null, cap_check: null,
  rate_approved_by_user_id: null, rate_approval_reason: null, rate_approved_at: null,
}
const sample = { repayment_method: 'equal_installment', amount: '1000.00', term: 3, annual_rate_percent: '30', apr_percent: '30.00' }
function capCheck(status: string, apr: string) {
  return {
    on: '2026-11-25', institution_kind: 'small_loan_company', hard_cap_percent: '24', lpr_percent: '3', lpr_limit_percent: '12',
    worst: { ...sample, apr_percent: apr }, samples: [{ ...sample, apr_percent: apr }], status, rate_field: 'rate.annual_rate',
  }
}
function signIn() {
  useSession().me = me({ permissions: ['product.read', 'product.manage'] })
}

describe('the product editor', { timeout: 30_000 }, () => {
  it('shows the APR of the sample loans as the rate changes, debounced', async () => {
    let checks = 0
    fakeApi({
      'GET /api/v1/products/HOT': { body: { code: 'HOT', created_at: '2026-11-25T02:00:00Z', versions: [draft] } },
      'POST /api/v1/products/cap-check': async (r) => {
        checks += 1
        const rate = (await r.json()).terms.rate.annual_rate as string
        return { body: Number(rate) > 24 ? capCheck('above_cap', rate) : capCheck('ok', rate) }
      },
    })
    const w = mountWithApp(ProductEditorView, { props: { code: 'HOT' }, attachTo: document.body }, signIn)
    await vi.waitFor(() => expect(w.find('[data-testid=product-live-status]').attributes('data-status')).toBe('above_cap'), { timeout: 10_000 })
    expect(w.find('[data-testid=product-live-apr]').text()).toContain('30')
    const rate = w.find('input[data-testid=product-rate]')
    for (const typed of ['1', '11', '11.5']) await rate.setValue(typed)
    await vi.waitFor(() => expect(w.find('[data-testid=product-live-status]').attributes('data-status')).toBe('ok'), { timeout: 10_000 })
    expect(w.find('[data-testid=product-live-apr]').text()).toContain('11.5')
    // The first check, and one for the burst of typing (not one per keystroke).
    expect(checks).toBe(2)
    w.unmount()
  })

  it('shows a publication refused above the cap beside the rate field', async () => {
    fakeApi({
      'GET /api/v1/products/HOT': { body: { code: 'HOT', created_at: '2026-11-25T02:00:00Z', versions: [draft] } },
      'POST /api/v1/products/cap-check': { body: capCheck('above_cap', '30.00') },
      'PUT /api/v1/products/HOT/versions/1': { body: draft },
      'POST /api/v1/products/HOT/versions/1/publish': {
        status: 422, body: { ...problem(422, 'apr_above_cap', '年化利率（IRR）30.00% 超过上限 24%', 'rate.annual_rate'), apr_percent: '30.00', cap_percent: '24' },
      },
    })
    const w = mountWithApp(ProductEditorView, { props: { code: 'HOT' }, attachTo: document.body }, signIn)
    await vi.waitFor(() => expect(w.find('[data-testid=product-publish]').exists()).toBe(true), { timeout: 10_000 })
    await w.find('[data-testid=product-publish]').trigger('click')
    await vi.waitFor(() => expect(requests.some((r) => r.url.endsWith('/publish'))).toBe(true), { timeout: 10_000 })
    const rateItem = w.findAll('.el-form-item').find((item) => item.find('input[data-testid=product-rate]').exists())!
    await vi.waitFor(() => expect(rateItem.find('.el-form-item__error').text()).toContain('超过上限 24%'), { timeout: 10_000 })
    const put = requests.find((r) => r.method === 'PUT')!
    expect((await put.json()).terms.rate).toEqual({ kind: 'fixed', annual_rate: '30' })
    w.unmount()
  })
})
