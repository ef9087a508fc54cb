import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import SendCodeButton from './SendCodeButton.vue'
import LoginProblem from './LoginProblem.vue'
import { ApiError } from '@/api/problem'
import { fakeApi, requests } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'

describe('SendCodeButton', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }))
  afterEach(() => vi.useRealTimers())

  it('asks for a code, then counts down until another may be asked for', async () => {
    fakeApi({ 'POST /api/v1/auth/sms-codes': { status: 202, body: { phone_masked: '137****5678', expires_in: 300, resend_after: 60 } } })
    const w = mountWithApp(SendCodeButton, { props: { phone: '137 1234 5678', purpose: 'register' } })
    await w.find('button').trigger('click')
    await flush()
    expect(await requests[0].json()).toEqual({ phone: '13712345678', purpose: 'register', kind: 'borrower' })
    expect(w.emitted('sent')).toHaveLength(1)
    expect(w.text()).toContain('60 秒后重发')
    expect(w.find('button').attributes('disabled')).toBeDefined()
    vi.advanceTimersByTime(60_000)
    await flush()
    expect(w.text()).toContain('获取验证码')
  })

  it('does not ask for a code for a malformed phone number', async () => {
    const w = mountWithApp(SendCodeButton, { props: { phone: '1234', purpose: 'login' } })
    await w.find('button').trigger('click')
    expect(requests).toHaveLength(0)
    expect(w.emitted('error')![0]).toEqual(['phone_format'])
  })

  it('waits as long as the API says when codes come too fast', async () => {
    fakeApi({ 'POST /api/v1/auth/sms-codes': { status: 429, body: { ...problem(429, 'rate_limited', '请求过于频繁'), retry_after: 42 } } })
    const w = mountWithApp(SendCodeButton, { props: { phone: '13712345678', purpose: 'login' } })
    await w.find('button').trigger('click')
    await flush()
    expect(w.emitted('error')![0][0]).toBeInstanceOf(ApiError)
    expect(w.text()).toContain('42 秒后重发')
  })
})

describe('LoginProblem', () => {
  it('tells when a locked account opens again, in the institution’s time', () => {
    const error = new ApiError(423, { ...problem(423, 'account_locked', 'locked'), locked_until: '2026-11-25T12:57:42+00:00' })
    const w = mountWithApp(LoginProblem, { props: { error, resetLink: '/reset-password' } })
    expect(w.text()).toContain('账户已锁定')
    expect(w.text()).toContain('2026年11月25日 20:57:42')
    expect(w.find('a[href="/reset-password"]').exists()).toBe(true)
  })

  it('never shows the lock’s end as a raw UTC timestamp', () => {
    const until = '2026-11-25T12:57:42+00:00'
    const withTime = mountWithApp(LoginProblem, { props: { error: new ApiError(423, { ...problem(423, 'account_locked', '账户已锁定，15 分钟后可再试'), locked_until: until }) } })
    expect(withTime.text()).not.toContain('2026-11-25T12:57')
    // Without an end the API's message (minutes left) is shown as it came.
    const withoutTime = mountWithApp(LoginProblem, { props: { error: new ApiError(423, problem(423, 'account_locked', '账户已锁定，15 分钟后可再试')) } })
    expect(withoutTime.text()).toContain('15 分钟后可再试')
  })

  it('counts down a sign-in delay and holds the form meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const error = new ApiError(429, { ...problem(429, 'login_delayed', 'wait'), retry_after: 2 })
    const w = mountWithApp(LoginProblem, { props: { error } })
    expect(w.text()).toContain('请等待 2 秒')
    expect(w.emitted('waiting')![0]).toEqual([true])
    vi.advanceTimersByTime(2000)
    await flush()
    expect(w.emitted('waiting')!.at(-1)).toEqual([false])
    expect(w.text()).toContain('现在可以重试了')
    vi.useRealTimers()
  })
})
