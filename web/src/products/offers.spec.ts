import { beforeEach, describe, expect, it, vi } from 'vitest'

const GET = vi.fn()
vi.mock('@/api/client', () => ({ api: { GET: (...a: unknown[]) => GET(...a) }, call: (p: Promise<unknown>) => p }))

const { offerOf, prefetchOffer } = await import('./offers')

describe('a product on offer asked with the page’s code', () => {
  beforeEach(() => GET.mockReset())

  it('is asked once when the page opens, and the page takes that answer', async () => {
    GET.mockResolvedValueOnce({ code: 'CONSUMER' })
    prefetchOffer('CONSUMER')
    prefetchOffer('CONSUMER')
    expect(GET).toHaveBeenCalledTimes(1)
    expect(GET.mock.calls[0][1]).toEqual({ params: { path: { product_code: 'CONSUMER' } } })
    await expect(offerOf('CONSUMER')).resolves.toEqual({ code: 'CONSUMER' })
    expect(GET).toHaveBeenCalledTimes(1)
  })

  it('is asked again after being taken (a retry, the next visit), and without a head start', async () => {
    GET.mockResolvedValueOnce({ code: 'A', n: 1 }).mockResolvedValueOnce({ code: 'A', n: 2 })
    prefetchOffer('A')
    await offerOf('A')
    await expect(offerOf('A')).resolves.toEqual({ code: 'A', n: 2 })
    expect(GET).toHaveBeenCalledTimes(2)
  })

  it('hands a failure to the page that takes it', async () => {
    GET.mockRejectedValueOnce(new Error('offline'))
    prefetchOffer('B')
    await new Promise((r) => setTimeout(r, 0))
    await expect(offerOf('B')).rejects.toThrow('offline')
  })
})
