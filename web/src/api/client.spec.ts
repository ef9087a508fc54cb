import { describe, expect, it, vi } from 'vitest'
import { api, call, configureClient } from './client'
import { ApiError, TransientError } from './problem'
import { fakeApi, networkDown, requests } from '@/test/fetch'
import { problem } from '@/test/fixtures'

describe('the API client', () => {
  it('sends the token and the language', async () => {
    configureClient({ token: () => 'tok-1', language: () => 'en' })
    fakeApi({ 'GET /api/v1/public/config': { body: { ok: true } } })
    await call(api.GET('/api/v1/public/config'))
    expect(requests[0].headers.get('Authorization')).toBe('Bearer tok-1')
    expect(requests[0].headers.get('Accept-Language')).toBe('en')
  })

  it('turns a problem document into an ApiError with the messages of its fields', async () => {
    configureClient({ token: () => null })
    fakeApi({
      'POST /api/v1/auth/register': {
        status: 422,
        body: {
          ...problem(422, 'validation_failed', '输入有误'),
          errors: [
            { field: 'id_number', code: 'id_number_checksum', message: '身份证号码校验位不正确' },
            { field: 'phone', code: 'string_too_short', message: '内容太短' },
          ],
        },
      },
    })
    const error = await call(api.POST('/api/v1/auth/register', { body: { phone: '1', real_name: 'x', id_number: 'y', password: 'z' } })).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.code).toBe('validation_failed')
    expect(error.fieldErrors()).toEqual({ id_number: '身份证号码校验位不正确', phone: '内容太短' })
  })

  it('treats a 5xx and a network failure as retryable', async () => {
    fakeApi({ 'GET /api/v1/public/config': { status: 503, body: 'down' } })
    await expect(call(api.GET('/api/v1/public/config'))).rejects.toBeInstanceOf(TransientError)
    networkDown()
    await expect(call(api.GET('/api/v1/public/config'))).rejects.toBeInstanceOf(TransientError)
  })

  it('reports an ended session once, and not a wrong password', async () => {
    const onUnauthorized = vi.fn()
    configureClient({ token: () => 'tok-2', onUnauthorized })
    fakeApi({
      'GET /api/v1/auth/me': { status: 401, body: problem(401, 'session_expired', '登录已过期') },
      'POST /api/v1/auth/login': { status: 401, body: problem(401, 'invalid_credentials', '手机号或密码错误', 'password') },
    })
    await expect(call(api.GET('/api/v1/auth/me'))).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    await expect(call(api.POST('/api/v1/auth/login', { body: { phone: '13900000001', password: 'x' } }))).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })
})
