import { afterEach, describe, expect, it, vi } from 'vitest'
import { ElMessageBox } from 'element-plus'
import { describeDevice, methodParts } from './devices'
import SignedInDevices from './components/SignedInDevices.vue'
import TotpEnrolmentView from './views/TotpEnrolmentView.vue'
import { useSession } from './stores/session'
import { fakeApi, requests } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me, problem } from '@/test/fixtures'

const CHROME_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const WECHAT_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47'
const SAFARI_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15'

describe('devices', () => {
  it('are named by browser and system', () => {
    expect(describeDevice(CHROME_WIN)).toBe('Chrome · Windows')
    expect(describeDevice(WECHAT_IPHONE)).toBe('WeChat · iPhone')
    expect(describeDevice(SAFARI_MAC)).toBe('Safari · macOS')
    expect(describeDevice('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0 Safari/537.36')).toBe('Chrome (headless) · Linux')
    expect(describeDevice('some-agent/1.0')).toBe('some-agent/1.0')
    expect(describeDevice(null)).toBeNull()
    expect(methodParts('password+totp')).toEqual(['password', 'totp'])
    expect(methodParts('oauth:wechat')).toEqual(['wechat'])
  })
})

const sessions = [
  { id: 7, auth_method: 'sms', created_at: '2026-11-24T01:00:00Z', last_seen_at: '2026-11-24T02:00:00Z', ip: '10.0.0.8', user_agent: WECHAT_IPHONE, current: false },
  { id: 9, auth_method: 'password+totp', created_at: '2026-11-25T01:00:00Z', last_seen_at: '2026-11-25T04:30:00Z', ip: '10.0.0.9', user_agent: CHROME_WIN, current: true },
]

describe('signed-in devices', () => {
  afterEach(() => vi.restoreAllMocks())

  it('list this device first, with IP and last activity in the institution’s time', async () => {
    fakeApi({ 'GET /api/v1/auth/sessions': { body: sessions } })
    const w = mountWithApp(SignedInDevices)
    await vi.waitFor(() => expect(w.findAll('[data-testid=session]')).toHaveLength(2))
    const [first, second] = w.findAll('[data-testid=session]')
    expect(first.text()).toContain('Chrome · Windows')
    expect(first.text()).toContain('本设备')
    expect(first.text()).toContain('2026年11月25日 12:30:00')
    expect(first.text()).toContain('密码 + 动态验证码')
    expect(first.find('[data-testid=end-session]').exists()).toBe(false)
    expect(second.text()).toContain('WeChat · iPhone')
    expect(second.text()).toContain('10.0.0.8')
    expect(second.find('[data-testid=end-session]').exists()).toBe(true)
  })

  it('sign out another device after a confirmation', async () => {
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    let left = sessions
    fakeApi({
      'GET /api/v1/auth/sessions': () => ({ body: left }),
      'DELETE /api/v1/auth/sessions/7': () => {
        left = sessions.filter((s) => s.id !== 7)
        return { status: 204 }
      },
    })
    const w = mountWithApp(SignedInDevices)
    await vi.waitFor(() => expect(w.findAll('[data-testid=session]')).toHaveLength(2))
    await w.find('[data-testid=end-session]').trigger('click')
    await vi.waitFor(() => expect(w.findAll('[data-testid=session]')).toHaveLength(1))
    expect(confirm).toHaveBeenCalledTimes(1)
    expect(String(confirm.mock.calls[0][0])).toContain('WeChat · iPhone')
    expect(requests.some((r) => r.method === 'DELETE' && r.url.endsWith('/api/v1/auth/sessions/7'))).toBe(true)
  })

  it('keep the device when the confirmation is declined', async () => {
    vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel')
    fakeApi({ 'GET /api/v1/auth/sessions': { body: sessions } })
    const w = mountWithApp(SignedInDevices)
    await vi.waitFor(() => expect(w.findAll('[data-testid=session]')).toHaveLength(2))
    await w.find('[data-testid=end-session]').trigger('click')
    await flush()
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false)
  })
})

const enrolment = { secret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', otpauth_uri: 'otpauth://totp/x', qr_svg_data_uri: 'data:image/svg+xml;base64,PHN2Zy8+' }

describe('authenticator enrolment', () => {
  const staff = (has_password: boolean) => () => {
    const s = useSession()
    s.token = 'tok'
    s.kind = 'staff'
    s.me = me({ stage: 'mfa_enrolment', has_password })
  }

  it('without a password, shows the QR code at once and offers a password as an option', async () => {
    fakeApi({ 'POST /api/v1/auth/totp/enrolment': { body: enrolment } })
    const w = mountWithApp(TotpEnrolmentView, {}, staff(false))
    await vi.waitFor(() => expect(w.find('[data-testid=qr]').exists()).toBe(true))
    expect(await requests[0].json()).toEqual({})
    expect(w.find('[data-testid=current-password]').exists()).toBe(false)
    expect(w.find('[data-testid=choose-password]').exists()).toBe(true)
  })

  it('without a password, asks to sign in again when the sign-in is no longer recent', async () => {
    fakeApi({ 'POST /api/v1/auth/totp/enrolment': { status: 401, body: problem(401, 'reauthentication_required', '请重新验证密码', 'current_password') } })
    const w = mountWithApp(TotpEnrolmentView, {}, staff(false))
    await vi.waitFor(() => expect(w.find('[data-testid=enrol-stale]').exists()).toBe(true))
    expect(w.find('[data-testid=sign-in-again]').exists()).toBe(true)
    expect(w.find('[data-testid=qr]').exists()).toBe(false)
  })

  it('with a password, confirms it first', async () => {
    fakeApi({ 'POST /api/v1/auth/totp/enrolment': { body: enrolment } })
    const w = mountWithApp(TotpEnrolmentView, { attachTo: document.body }, staff(true))
    await flush()
    expect(requests).toHaveLength(0)
    await w.find('[data-testid=current-password]').setValue('Demo-Pass-2026')
    await w.find('form').trigger('submit')
    await vi.waitFor(() => expect(w.find('[data-testid=qr]').exists()).toBe(true))
    expect(await requests[0].json()).toEqual({ current_password: 'Demo-Pass-2026' })
    w.unmount()
  })
})
