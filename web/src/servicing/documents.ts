// Receipts and vouchers of a loan's money movements (PDF, rendered by the API), saved under the
// name the server gives them.
import { api, download } from '@/api/client'

/** Download the receipt or voucher of a loan's event (staff). */
export function downloadForStaff(loanId: number, seq: number): Promise<void> {
  return download(api.GET('/api/v1/loans/{loan_id}/events/{seq}/document', { params: { path: { loan_id: loanId, seq } }, parseAs: 'blob' }), `loan-${loanId}-${seq}.pdf`)
}

/** Download the receipt or voucher of an event of one's own loan (borrower). */
export function downloadMine(loanId: number, seq: number): Promise<void> {
  return download(api.GET('/api/v1/me/loans/{loan_id}/events/{seq}/document', { params: { path: { loan_id: loanId, seq } }, parseAs: 'blob' }), `loan-${loanId}-${seq}.pdf`)
}
