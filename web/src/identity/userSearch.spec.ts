import { describe, expect, it } from 'vitest'
import { findUsers, mayBeIdentifier, mergeOptions } from './userSearch'
import { fakeApi, requests } from '@/test/fetch'

const staffPage = { items: [{ id: 2, user_id: 11, name: '王敏', employee_number: 'E-002' }], total: 1, page: 1, page_size: 10 }
const borrowerPage = { items: [{ id: 3, user_id: 21, real_name: '王芳', phone_masked: '137****5678' }], total: 1, page: 1, page_size: 10 }

describe('finding a person for the sign-in history', () => {
  it('asks staff and borrowers the caller may read, borrowers by POST', async () => {
    fakeApi({ 'GET /api/v1/staff': { body: staffPage }, 'POST /api/v1/borrowers/search': { body: borrowerPage } })
    const found = await findUsers(' 王 ', () => true)
    expect(found).toEqual([
      { user_id: 11, name: '王敏', kind: 'staff', detail: 'E-002' },
      { user_id: 21, name: '王芳', kind: 'borrower', detail: '137****5678' },
    ])
    expect(new URL(requests.find((r) => r.method === 'GET')!.url).searchParams.get('q')).toBe('王')
    expect(await requests.find((r) => r.method === 'POST')!.json()).toEqual({ q: '王', page_size: 10 })
  })

  it('never puts a phone or ID number in a URL, and skips what the caller may not read', async () => {
    fakeApi({ 'GET /api/v1/staff': { body: staffPage }, 'POST /api/v1/borrowers/search': { body: borrowerPage } })
    await findUsers('137 1234 5678', () => true)
    expect(requests.map((r) => r.method)).toEqual(['POST'])
    requests.length = 0
    await findUsers('王', (p) => p === 'staff.read')
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(['/api/v1/staff'])
    expect(await findUsers('  ', () => true)).toEqual([])
  })

  it('a failing source leaves the other’s answers', async () => {
    fakeApi({ 'POST /api/v1/borrowers/search': { body: borrowerPage } }) // /staff answers 404
    expect((await findUsers('王', () => true)).map((o) => o.user_id)).toEqual([21])
  })

  it('recognises runs of digits that may identify someone; lists each account once', () => {
    expect(mayBeIdentifier('1371234')).toBe(true)
    expect(mayBeIdentifier('137 1234 5678')).toBe(true)
    expect(mayBeIdentifier('E-002')).toBe(false)
    const a = { user_id: 1, name: 'a', kind: 'staff' as const, detail: '' }
    expect(mergeOptions([a], [{ ...a, kind: 'borrower' }, { ...a, user_id: 2 }]).map((o) => o.user_id)).toEqual([1, 2])
  })
})
