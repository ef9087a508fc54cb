// A list that pages, sorts and filters on the server, and exports the same filtered rows to .xlsx.
//
//   const table = useServerTable({ load: (q) => call(api.GET('/api/v1/staff', { params: { query: q } })),
//                                  exportRows: (q) => download(api.GET('/api/v1/staff/export', ...), 'staff.xlsx'),
//                                  filters: { q: '', branch_id: undefined } })
import { reactive, ref, shallowRef, watch } from 'vue'
import { ApiError, TransientError } from '@/api/problem'

export interface PageOf<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

export interface TableQuery {
  page: number
  page_size: number
  sort?: string
  [filter: string]: unknown
}

interface Options<T, F extends Record<string, unknown>> {
  load: (query: TableQuery) => Promise<PageOf<T>>
  exportRows?: (query: Record<string, unknown>) => Promise<void>
  filters: F
  pageSize?: number
  sort?: string
}

/** Drop empty filters so the query string carries only what the user set. */
export function cleanFilters(filters: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(filters)) {
    if (v === '' || v === null || v === undefined) continue
    out[k] = typeof v === 'string' ? v.trim() : v
  }
  return out
}

/** el-table's sort-change event → the API's `sort` parameter ("field" / "-field"). */
export function sortParam(prop: string | null | undefined, order: string | null | undefined): string | undefined {
  if (!prop || !order) return undefined
  return order === 'descending' ? `-${prop}` : prop
}

export function useServerTable<T, F extends Record<string, unknown>>(options: Options<T, F>) {
  const rows = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(options.pageSize ?? 20)
  const sort = ref<string | undefined>(options.sort)
  const filters = reactive({ ...options.filters }) as F
  const loading = ref(false)
  const exporting = ref(false)
  const error = shallowRef<ApiError | TransientError | null>(null)
  let seq = 0

  function query(): TableQuery {
    return { ...cleanFilters(filters), page: page.value, page_size: pageSize.value, ...(sort.value ? { sort: sort.value } : {}) }
  }

  async function load() {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const answer = await options.load(query())
      if (mine !== seq) return
      rows.value = answer.items
      total.value = answer.total
    } catch (e) {
      if (mine !== seq) return
      if (e instanceof ApiError || e instanceof TransientError) error.value = e
      else throw e
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Apply the filters from page 1. */
  function search() {
    page.value = 1
    return load()
  }

  function reset() {
    Object.assign(filters, options.filters)
    return search()
  }

  function onSortChange(event: { prop?: string | null; order?: string | null }) {
    sort.value = sortParam(event.prop, event.order)
    page.value = 1
    return load()
  }

  async function exportAll() {
    if (!options.exportRows) return
    exporting.value = true
    error.value = null
    try {
      await options.exportRows({ ...cleanFilters(filters), ...(sort.value ? { sort: sort.value } : {}) })
    } catch (e) {
      if (e instanceof ApiError || e instanceof TransientError) error.value = e
      else throw e
    } finally {
      exporting.value = false
    }
  }

  watch([page, pageSize], () => void load())

  return { rows, total, page, pageSize, sort, filters, loading, exporting, error, load, search, reset, onSortChange, exportAll, query }
}
