// A borrower's documents: the types, uploads with progress (XMLHttpRequest: fetch reports none), and
// the files fetched with the session's header as blobs (an <img src> or a new tab cannot send it).
import { api, call, requestHeaders, type components } from '@/api/client'
import { TransientError, toError } from '@/api/problem'

export type DocumentRead = components['schemas']['DocumentRead']
export type DocumentType = DocumentRead['type']
export type DocumentView = components['schemas']['DocumentViewRead']

/** Every type, in the order the products list them. */
export const DOCUMENT_TYPES: DocumentType[] = [
  'id_card', 'household_register', 'marriage_certificate', 'income_proof', 'bank_statement',
  'asset_proof', 'business_licence', 'tax_record', 'land_contract', 'guarantee_letter',
]
/** The KYC file a borrower is asked for first (a card each on "My documents"); other types show once on file. */
export const CORE_TYPES: DocumentType[] = ['id_card', 'income_proof', 'bank_statement', 'asset_proof', 'business_licence']
/** What the file pickers offer (the API judges the content, not this). */
export const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf'
export const CAMERA_ACCEPT = 'image/*,application/pdf'

/** An upload: the file and a progress callback (0–100), answering the stored document. */
export type Uploader = (file: File, onProgress: (percent: number) => void) => Promise<DocumentRead>

/** POST a multipart form to `url` with the session's headers, reporting progress. */
export function postFile(url: string, type: DocumentType | null, file: File, onProgress: (percent: number) => void): Promise<DocumentRead> {
  const form = new FormData()
  if (type !== null) form.append('type', type)
  form.append('file', file, file.name)
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    for (const [k, v] of Object.entries(requestHeaders())) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
    }
    xhr.onerror = () => reject(new TransientError(null, 'network'))
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = xhr.responseText
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as DocumentRead)
      else reject(toError(xhr.status, body))
    }
    xhr.send(form)
  })
}

export function uploadMine(type: DocumentType): Uploader {
  return (file, onProgress) => postFile('/api/v1/me/documents', type, file, onProgress)
}

export function uploadFor(borrowerId: number, type: DocumentType): Uploader {
  return (file, onProgress) => postFile(`/api/v1/borrowers/${borrowerId}/documents`, type, file, onProgress)
}

export function listMine(includeInactive = false): Promise<DocumentRead[]> {
  return call(api.GET('/api/v1/me/documents', { params: { query: { include_inactive: includeInactive } } }))
}

export function listFor(borrowerId: number, includeInactive = false): Promise<DocumentRead[]> {
  return call(api.GET('/api/v1/borrowers/{borrower_id}/documents', {
    params: { path: { borrower_id: borrowerId }, query: { include_inactive: includeInactive } },
  }))
}

/** The file of a document as a Blob (`mine`: through the borrower's own route). Each fetch is audited. */
export async function fetchContent(id: number, mine: boolean): Promise<Blob> {
  const path = { params: { path: { document_id: id } }, parseAs: 'blob' as const }
  const answer = mine
    ? await api.GET('/api/v1/me/documents/{document_id}/content', path)
    : await api.GET('/api/v1/documents/{document_id}/content', path)
  if (!answer.response.ok) throw toError(answer.response.status, answer.error)
  return answer.data as unknown as Blob
}

export function listViews(id: number): Promise<DocumentView[]> {
  return call(api.GET('/api/v1/documents/{document_id}/views', { params: { path: { document_id: id } } }))
}

/** The newest active document of each type. */
export function activeByType(docs: DocumentRead[]): Map<DocumentType, DocumentRead> {
  const out = new Map<DocumentType, DocumentRead>()
  for (const d of docs) if (d.status === 'active' && !out.has(d.type)) out.set(d.type, d)
  return out
}

/** Open a blob in a new tab (an image or a PDF the browser shows itself); the URL is freed a minute later. */
export function openBlob(blob: Blob): void {
  const url = URL.createObjectURL(blob)
  window.open(url, '_blank')
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
