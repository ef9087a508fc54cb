// @vitest-environment node
import { describe, expect, it, vi } from 'vitest'
import { cleanFilters, sortParam, useServerTable, type TableQuery } from './useServerTable'
import { TransientError } from '@/api/problem'

describe('server-side tables', () => {
  it('send only the filters the user set', () => {
    expect(cleanFilters({ q: ' 张三 ', role: '', branch_id: undefined, status: null, page: 2 })).toEqual({ q: '张三', page: 2 })
  })

  it('turn el-table’s sort event into the API’s sort parameter', () => {
    expect(sortParam('created_at', 'descending')).toBe('-created_at')
    expect(sortParam('name', 'ascending')).toBe('name')
    expect(sortParam('name', null)).toBeUndefined()
  })

  it('page, sort and filter on the server, from page 1 after a change', async () => {
    const load = vi.fn(async (q: TableQuery) => ({ items: [{ id: q.page }], total: 45, page: q.page, page_size: q.page_size }))
    const table = useServerTable({ load, filters: { q: '' } })
    await table.load()
    expect(load).toHaveBeenLastCalledWith({ page: 1, page_size: 20 })
    table.page.value = 3
    await vi.waitFor(() => expect(load).toHaveBeenLastCalledWith({ page: 3, page_size: 20 }))
    table.filters.q = '1390000'
    await table.search()
    expect(load).toHaveBeenLastCalledWith({ q: '1390000', page: 1, page_size: 20 })
    await table.onSortChange({ prop: 'created_at', order: 'descending' })
    expect(load).toHaveBeenLastCalledWith({ q: '1390000', page: 1, page_size: 20, sort: '-created_at' })
    expect(table.total.value).toBe(45)
  })

  it('keep only the newest answer when requests overtake each other', async () => {
    let release: (v: unknown) => void = () => {}
    const slow = new Promise((r) => (release = r))
    const load = vi
      .fn()
      .mockImplementationOnce(async () => {
        await slow
        return { items: ['old'], total: 1, page: 1, page_size: 20 }
      })
      .mockImplementationOnce(async () => ({ items: ['new'], total: 1, page: 1, page_size: 20 }))
    const table = useServerTable<string, Record<string, never>>({ load, filters: {} })
    const first = table.load()
    await table.load()
    release(null)
    await first
    expect(table.rows.value).toEqual(['new'])
  })

  it('show a failure and export the same filters', async () => {
    const exportRows = vi.fn(async () => {})
    const table = useServerTable({
      load: async () => {
        throw new TransientError(null, 'offline')
      },
      exportRows,
      filters: { q: 'x', role: '' },
    })
    await table.load()
    expect(table.error.value).toBeInstanceOf(TransientError)
    table.sort.value = 'name'
    await table.exportAll()
    expect(exportRows).toHaveBeenCalledWith({ q: 'x', sort: 'name' })
  })
})
