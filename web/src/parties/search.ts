// The staff borrower search. Its terms travel in a POST body, never in the URL: a full ID number or
// phone in a query string ends up in proxy and browser logs (the API answers 422
// `identifier_in_query` to GET /borrowers?q=<full ID or phone>).
import { api, call, download, type components } from '@/api/client'
import { CUSTOMER_TYPES, type CustomerType } from './fields'

export type BorrowerSearch = components['schemas']['BorrowerSearch']
export type BorrowerPage = components['schemas']['Page_BorrowerRead_']
type Channel = NonNullable<BorrowerSearch['channel']>

const CHANNELS: Channel[] = ['online', 'branch']

/** The search body from the table's query (filters already cleaned, page, page size, sort). */
export function searchBody(query: Record<string, unknown>): BorrowerSearch {
  const body: BorrowerSearch = {}
  if (typeof query.q === 'string' && query.q.trim()) body.q = query.q.trim()
  if (CUSTOMER_TYPES.includes(query.customer_type as CustomerType)) body.customer_type = query.customer_type as CustomerType
  if (CHANNELS.includes(query.channel as Channel)) body.channel = query.channel as Channel
  if (typeof query.branch_id === 'number') body.branch_id = query.branch_id
  if (query.unassigned === true) body.unassigned = true
  if (query.locked === true) body.locked = true
  if (typeof query.page === 'number') body.page = query.page
  if (typeof query.page_size === 'number') body.page_size = query.page_size
  if (typeof query.sort === 'string' && query.sort) body.sort = query.sort
  return body
}

/** One page of borrowers matching the search (masked, in the caller's scope). */
export function searchBorrowers(query: Record<string, unknown>): Promise<BorrowerPage> {
  return call(api.POST('/api/v1/borrowers/search', { body: searchBody(query) }))
}

/** Every borrower matching the search as an .xlsx download. */
export function exportBorrowers(query: Record<string, unknown>): Promise<void> {
  const body = searchBody(query)
  delete body.page
  delete body.page_size
  return download(api.POST('/api/v1/borrowers/search/export', { body, parseAs: 'blob' }), 'borrowers.xlsx')
}
