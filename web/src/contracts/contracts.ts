// The loan contract as the API gives it, and what the screens need from it.
import type { components } from '@/api/schema'
import { api, download } from '@/api/client'

export type Contract = components['schemas']['ContractRead']
export type ContractTemplate = components['schemas']['TemplateRead']
export type ContractTemplateDetail = components['schemas']['TemplateDetail']
export type ContractFile = 'pdf' | 'docx' | 'signed'

/** One schedule row of the terms snapshot (money as strings). */
export interface ScheduleRow {
  number: number
  due_date: string
  principal: string
  interest: string
  fees: string
  total: string
  balance_after: string
}

/** One fee as the contract states it, with its payee. */
export interface FeeRow {
  name: string
  payee: string
  payee_name: string
  per_charge: string
  charges: number
  total: string
}

/** The figures of a contract's terms snapshot the screens show. */
export interface ContractTerms {
  amount: string
  annual_rate_percent: string
  apr_percent: string
  monthly_rate_percent: string
  daily_rate_percent: string
  term: number
  period_unit: string
  repayment_method: string
  start_date: string
  maturity_date: string
  installments: ScheduleRow[]
  totals: { interest: string; fees: string; total_payable: string }
  fees: FeeRow[]
}

export function termsOf(contract: Contract): ContractTerms {
  return contract.terms as unknown as ContractTerms
}

export const STATUS_TAG: Record<Contract['status'], 'success' | 'warning' | 'info'> = { ready: 'warning', signed: 'success', void: 'info' }

/** Download a file of the borrower's own contract. */
export function downloadMine(applicationId: number, kind: ContractFile): Promise<void> {
  return download(
    api.GET('/api/v1/me/applications/{application_id}/contract/file', {
      params: { path: { application_id: applicationId }, query: { kind } },
      parseAs: 'blob',
    }),
    `contract-${applicationId}-${kind}.${kind === 'docx' ? 'docx' : 'pdf'}`,
  )
}

/** Download a file of an application's contract (staff). */
export function downloadForStaff(applicationId: number, kind: ContractFile): Promise<void> {
  return download(
    api.GET('/api/v1/applications/{application_id}/contract/file', {
      params: { path: { application_id: applicationId }, query: { kind } },
      parseAs: 'blob',
    }),
    `contract-${applicationId}-${kind}.${kind === 'docx' ? 'docx' : 'pdf'}`,
  )
}
