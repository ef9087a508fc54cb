// Payments through the payment provider in the web app: how a payment's status is shown, what a
// borrower's "pay now" sends, and waiting for the provider's word (polling until it is final).
import type { components } from '@/api/client'

export type PaymentOrder = components['schemas']['PaymentOrderRead']
export type PaymentBreak = components['schemas']['BreakRead']
export type PaymentStatus = PaymentOrder['status']
export type PayPurpose = 'repayment' | 'prepayment'
export type PayMode = 'shorten_term' | 'reduce_installment'

type Tag = 'success' | 'danger' | 'warning' | 'info' | 'primary'

export const PAYMENT_TAG: Record<PaymentStatus, Tag> = { requested: 'warning', confirmed: 'success', failed: 'danger' }

/** What the borrower's form sends: a prepayment carries its mode, a repayment none. */
export function payBody(amount: string, purpose: PayPurpose, mode: PayMode | null): { amount: string; purpose: PayPurpose; mode: PayMode | null } {
  return { amount: amount.trim(), purpose, mode: purpose === 'prepayment' ? mode : null }
}

/** Whether the provider has said its last word on the payment. */
export function isFinal(p: Pick<PaymentOrder, 'status'>): boolean {
  return p.status !== 'requested'
}

/**
 * Ask (`poll`) until the payment is final or `tries` run out, waiting `waitMs` between asks; the last
 * answer. The provider's callback usually decides first: a poll then only reads it.
 */
export async function settle(
  poll: () => Promise<PaymentOrder>,
  { tries = 10, waitMs = 1000, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } = {},
): Promise<PaymentOrder> {
  let last = await poll()
  for (let i = 1; i < tries && !isFinal(last); i++) {
    await sleep(waitMs)
    last = await poll()
  }
  return last
}

/** A loan's tranche terms for a payout: whether its product pays out in tranches, what may still be
 * paid out (the approved principal less what has been disbursed), as a money string, and the next payout
 * its product planned and is not made yet (the n-th made meets the n-th planned; null: none planned or left). */
export function payoutLeft(loan: {
  principal: string
  terms: Record<string, unknown>
  state?: { disbursed: string; disbursements?: unknown[] } | null
}): {
  tranches: boolean
  left: string
  next: { number: number; on: string; amount: string } | null
} {
  const servicing = (loan.terms?.servicing ?? {}) as { tranches?: boolean; expected_disbursements?: { on: string; amount: string }[] }
  const planned = servicing.expected_disbursements ?? []
  const made = loan.state?.disbursements?.length ?? 0
  const next = made < planned.length ? { number: made + 1, on: planned[made].on, amount: planned[made].amount } : null
  const toFen = (v: string) => {
    const [whole, part = ''] = v.split('.')
    return Number(whole) * 100 + Number(part.padEnd(2, '0').slice(0, 2))
  }
  const left = toFen(loan.principal) - (loan.state ? toFen(loan.state.disbursed) : 0)
  return { tranches: servicing.tranches === true, left: `${Math.floor(left / 100)}.${String(left % 100).padStart(2, '0')}`, next }
}
