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
      'POST /api/v1/auth/register': { status: 422, body: problem(422, 'id_number_checksum', '身份证号码校验位不正确', 'id_number') },
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
      expect(item.text()).toContain('身份证号码校验位不正确')
    })
    w.unmount()
  })

  it('ties each error to its own field (aria-describedby, aria-invalid), under that field', async () => {
    fakeApi({ 'GET /api/v1/public/config': { body: config } })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await w.find('form').trigger('submit')
    const input = w.find('[data-testid=id-number]')
    await vi.waitFor(() => expect(input.attributes('aria-invalid')).toBe('true'))
    const ids = input.attributes('aria-describedby')!.split(' ')
    const error = document.getElementById(ids[0])!
    expect(error.classList.contains('el-form-item__error')).toBe(true)
    expect(error.textContent).toContain('必填')
    // The message and the hint belong to the ID number's form item, not to the next field's.
    expect(error.closest('.el-form-item')).toBe(input.element.closest('.el-form-item'))
    expect(document.getElementById(ids[1])!.textContent).toContain('18 位号码')
    await input.setValue('11010519491231002X')
    await input.trigger('blur')
    await vi.waitFor(() => expect(input.attributes('aria-invalid')).toBeUndefined())
    expect(input.attributes('aria-describedby')).not.toContain('error')
    w.unmount()
  })

  it('no longer shows the code field as wrong once the code is sent', async () => {
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'POST /api/v1/auth/sms-codes': { status: 202, body: { phone_masked: '137****5678', expires_in: 300, resend_after: 60 } },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await w.find('form').trigger('submit')
    const codeItem = () => w.find('[data-testid=code]').element.closest('.el-form-item')!
    await vi.waitFor(() => expect(codeItem().classList.contains('is-error')).toBe(true))
    await w.find('[data-testid=phone]').setValue('13712345678')
    await w.find('[data-testid=send-code]').trigger('click')
    await vi.waitFor(() => expect(w.text()).toContain('验证码已发送'))
    await vi.waitFor(() => expect(codeItem().classList.contains('is-error')).toBe(false))
    expect(w.find('[data-testid=code]').attributes('aria-invalid')).toBeUndefined()
    w.unmount()
  })

  async function fillAndSubmit(w: ReturnType<typeof mountWithApp>) {
    await w.find('[data-testid=phone]').setValue('13712345678')
    await w.find('[data-testid=code]').setValue('123456')
    await w.find('[data-testid=real-name]').setValue('王芳')
    await w.find('[data-testid=id-number]').setValue('11010519491231002X')
    await w.find('[data-testid=password]').setValue('Blue-River-Stone-9')
    await w.find('form').trigger('submit')
  }

  it('signs in with the phone and password once the registration is received', async () => {
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'POST /api/v1/auth/register': { status: 202, body: { status: 'received', phone_masked: '137****5678' } },
      'POST /api/v1/auth/login': { body: { status: 'authenticated', token: 'tok-1', expires_at: null, absolute_expires_at: null, mfa_token: null } },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await fillAndSubmit(w)
    await vi.waitFor(() => expect(requests.some((r) => r.url.endsWith('/api/v1/auth/login'))).toBe(true))
    const login = requests.find((r) => r.url.endsWith('/api/v1/auth/login'))!
    expect(await login.json()).toEqual({ phone: '13712345678', password: 'Blue-River-Stone-9', kind: 'borrower' })
    expect(w.find('[data-testid=register-received]').exists()).toBe(false)
    w.unmount()
  })

  it('says the registration was received, and nothing more, when there is no account to sign in to', async () => {
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'POST /api/v1/auth/register': { status: 202, body: { status: 'received', phone_masked: '137****5678' } },
      'POST /api/v1/auth/login': { status: 401, body: problem(401, 'invalid_credentials', '手机号或密码不正确') },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await fillAndSubmit(w)
    await vi.waitFor(() => expect(w.find('[data-testid=register-received]').exists()).toBe(true))
    expect(w.text()).toContain('注册申请已收到')
    expect(w.text()).toContain('短信')
    expect(w.text()).not.toContain('手机号或密码不正确')
    expect(w.find('form').exists()).toBe(false)
    w.unmount()
  })
})
