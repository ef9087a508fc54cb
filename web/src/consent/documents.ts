// The consent documents: their kinds in the order registration shows them, and their text in the current language.
import type { components } from '@/api/client'

export type ConsentDocument = components['schemas']['ConsentDocumentRead']
export type ConsentRecord = components['schemas']['ConsentRecordRead']
export type ConsentKind = ConsentDocument['kind']

export const CONSENT_KINDS: readonly ConsentKind[] = ['user_agreement', 'privacy_policy', 'sensitive_info']

/** The document's title in `locale` (English when asked, Chinese otherwise). */
export function titleOf(doc: Pick<ConsentDocument, 'title_zh' | 'title_en'>, locale: string): string {
  return locale === 'en' ? doc.title_en : doc.title_zh
}

/** The document's text in `locale`. */
export function bodyOf(doc: Pick<ConsentDocument, 'body_zh' | 'body_en'>, locale: string): string {
  return locale === 'en' ? doc.body_en : doc.body_zh
}
