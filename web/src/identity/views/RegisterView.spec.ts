import { describe, expect, it, vi } from 'vitest'
import RegisterView from './RegisterView.vue'
import { fakeApi, requests } from '@/test/fetch'
import { mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'

const doc = (kind: string, version: string, title_zh: string, title_en: string) => ({
  id: version.length + kind.length, kind, version, title_zh, title_en, body_zh: `${title_zh}的正文`, body_en: `The text of the ${title_en}`,
  content_hash: 'a'.repeat(64), effective_from: '2026-11-25T02:00:00Z', published_at: '2026-11-25T02:00:00Z',
})
const documents = [
  doc('user_agreement', '1.0', '用户协议', 'User agreement'),
  doc('privacy_policy', '2.1', '隐私政策', 'Privacy policy'),
  doc('sensitive_info', '1.0', '敏感个人信息处理规则', 'Rules on sensitive personal information'),
]
const KINDS = ['user_agreement', 'privacy_policy', 'sensitive_info']
const config = { institution: { id: 1, code: 'DEMO', name: '示范', business_date: '2026-11-25', timezone: 'Asia/Shanghai' }, mode: 'demo', oauth_providers: [], sms_simulator: true, password_min_length: 8, password_max_length: 128, lockout_threshold: 5 }

/** Fill in every field but the consents. */
async function fill(w: ReturnType<typeof mountWithApp>) {
  await w.find('[data-testid=phone]').setValue('13712345678')
  await w.find('[data-testid=code]').setValue('123456')
  await w.find('[data-testid=real-name]').setValue('王芳')
  await w.find('[data-testid=id-number]').setValue('11010519491231002X')
  await w.find('[data-testid=password]').setValue('Blue-River-Stone-9')
}

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
      'GET /api/v1/public/consent-documents': { body: documents },
      'POST /api/v1/auth/register': { status: 422, body: problem(422, 'id_number_checksum', '身份证号码校验位不正确', 'id_number') },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    for (const kind of KINDS) await w.find(`[data-testid=consent-${kind}] input`).setValue(true)
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

  it('asks for three separate, unticked consents and sends nothing until all are ticked', async () => {
    fakeApi({ 'GET /api/v1/public/config': { body: config }, 'GET /api/v1/public/consent-documents': { body: documents } })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    const boxes = KINDS.map((k) => w.find(`[data-testid=consent-${k}] input`))
    expect(boxes.map((b) => (b.element as HTMLInputElement).checked)).toEqual([false, false, false])
    await vi.waitFor(() => expect(w.find('[data-testid=read-privacy_policy]').text()).toContain('隐私政策'))
    // The sensitive-information consent is its own, with its own explanation.
    expect(w.find('[data-testid=consent-sensitive_info]').text()).toContain('单独同意处理我的敏感个人信息')
    expect(w.find('[data-testid=sensitive-hint]').text()).toContain('第二十九条')

    await fill(w)
    await boxes[0].setValue(true)
    await w.find('form').trigger('submit')
    for (const kind of ['privacy_policy', 'sensitive_info']) {
      const box = w.find(`[data-testid=consent-${kind}] input`)
      await vi.waitFor(() => expect(box.attributes('aria-invalid')).toBe('true'))
      const error = document.getElementById(box.attributes('aria-describedby')!.split(' ')[0])!
      expect(error.textContent).toContain('请阅读并勾选同意')
      expect(error.closest('.el-form-item')).toBe(box.element.closest('.el-form-item'))
    }
    expect(boxes[0].attributes('aria-invalid')).toBeUndefined()
    expect(requests.some((r) => r.url.endsWith('/api/v1/auth/register'))).toBe(false)
    w.unmount()
  })

  it('opens each document to read, and sends the version of each accepted document', async () => {
    let sent: Record<string, unknown> | null = null
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'GET /api/v1/public/consent-documents': { body: documents },
      'POST /api/v1/auth/register': async (r) => {
        sent = await r.json()
        return { status: 409, body: problem(409, 'id_number_already_registered', '该身份证号码已注册', 'id_number') }
      },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await vi.waitFor(() => expect(w.find('[data-testid=read-user_agreement]').attributes('disabled')).toBeUndefined())
    await w.find('[data-testid=read-user_agreement]').trigger('click')
    await vi.waitFor(() => expect(document.querySelector('[data-testid=consent-body]')?.textContent).toContain('用户协议的正文'))
    ;(document.querySelector('[data-testid=consent-accept]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect((w.find('[data-testid=consent-user_agreement] input').element as HTMLInputElement).checked).toBe(true))
    await w.find('[data-testid=consent-privacy_policy] input').setValue(true)
    await w.find('[data-testid=consent-sensitive_info] input').setValue(true)
    await fill(w)
    await w.find('form').trigger('submit')
    await vi.waitFor(() => expect(sent).not.toBeNull())
    expect(sent!.consents).toEqual({ user_agreement: '1.0', privacy_policy: '2.1', sensitive_info: '1.0' })
    w.unmount()
  })

  it('asks again for a document that changed while the page was open', async () => {
    let round = 0
    const stale = {
      ...problem(422, 'consent_version_stale', '协议已更新，请重新阅读并同意最新版本', 'consents'),
      errors: [{ field: 'consents.privacy_policy', code: 'consent_version_stale', message: '协议已更新，请重新阅读并同意最新版本' }],
    }
    fakeApi({
      'GET /api/v1/public/config': { body: config },
      'GET /api/v1/public/consent-documents': () => ({ body: round++ === 0 ? documents : [documents[0], doc('privacy_policy', '3.0', '隐私政策', 'Privacy policy'), documents[2]] }),
      'POST /api/v1/auth/register': { status: 422, body: stale },
    })
    const w = mountWithApp(RegisterView, { attachTo: document.body })
    await vi.waitFor(() => expect(round).toBe(1))
    for (const kind of KINDS) await w.find(`[data-testid=consent-${kind}] input`).setValue(true)
    await fill(w)
    await w.find('form').trigger('submit')
    const box = w.find('[data-testid=consent-privacy_policy] input')
    await vi.waitFor(() => expect((box.element as HTMLInputElement).checked).toBe(false))
    expect(round).toBe(2)
    await vi.waitFor(() => expect(box.element.closest('.el-form-item')!.textContent).toContain('该文件已更新为新版本'))
    expect((w.find('[data-testid=consent-sensitive_info] input').element as HTMLInputElement).checked).toBe(true)
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
    // The attribute follows the error message's removal (after its leave transition).
    await vi.waitFor(() => expect(w.find('[data-testid=code]').attributes('aria-invalid')).toBeUndefined())
    w.unmount()
  })

  async function fillAndSubmit(w: ReturnType<typeof mountWithApp>) {
    for (const kind of KINDS) await w.find(`[data-testid=consent-${kind}] input`).setValue(true)
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
      'GET /api/v1/public/consent-documents': { body: documents },
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
      'GET /api/v1/public/consent-documents': { body: documents },
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
