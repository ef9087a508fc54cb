import { describe, expect, it, vi } from 'vitest'
import RegisterView from './RegisterView.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'

const config = { institution: { id: 1, code: 'DEMO', name: '示范', business_date: '2026-11-25', timezone: 'Asia/Shanghai' }, mode: 'demo', oauth_providers: [], sms_simulator: true, password_min_length: 8, password_max_length: 128, lockout_threshold: 5 }

describe('registration', () => {
  it('names a wrong check character as the user types', async () => {
    fakeApi({ 'GET /api/v1/public/config': { body: config } })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await w.find('[data-testid=id-number]').setValue('110105194912310021')
    await vi.waitFor(() => expect(w.text()).toContain('身份证号码校验位（最后一位）不正确'))
    await w.find('[data-testid=id-number]').setValue('11010519491231002X')
    await vi.waitFor(() => expect(w.text()).not.toContain('校验位'))
    w.unmount()
  })

  it('shows the API’s refusal next to the field it names', async () => {
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'POST /api/v1/auth/register': { status: 409, body: problem(409, 'id_number_already_registered', '该身份证号码已注册', 'id_number') },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await w.find('[data-testid=phone]').setValue('13712345678')
    await w.find('[data-testid=code]').setValue('123456')
    await w.find('[data-testid=real-name]').setValue('王芳')
    await w.find('[data-testid=id-number]').setValue('11010519491231002X')
    await w.find('[data-testid=password]').setValue('Blue-River-Stone-9')
    await w.find('form').trigger('submit')
    await vi.waitFor(() => expect(requests.some((r) => r.url.endsWith('/api/v1/auth/register'))).toBe(true))
    await vi.waitFor(() => {
      const item = w.findAll('.el-form-item').find((f) => f.text().includes('身份证号码'))!
      expect(item.text()).toContain('该身份证号码已注册')
    })
    w.unmount()
  })
})
