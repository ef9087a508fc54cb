import { describe, expect, it } from 'vitest'
import DocumentUpload from './DocumentUpload.vue'
import { flush, mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'
import { ApiError, TransientError } from '@/api/problem'
import type { DocumentRead, Uploader } from '@/documents/documents'

const stored = { id: 7, type: 'id_card', status: 'active', original_filename: '身份证.jpg' } as DocumentRead

async function choose(w: ReturnType<typeof mountWithApp>, testid: 'camera-input' | 'file-input', file: File) {
  const input = w.find(`[data-testid=${testid}]`)
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  await flush()
}

describe('the upload of one document', () => {
  it('offers the rear camera and a file picker, and hands the file to the upload function', async () => {
    const seen: string[] = []
    const upload: Uploader = async (file, onProgress) => {
      seen.push(file.name)
      onProgress(50)
      return stored
    }
    const w = mountWithApp(DocumentUpload, { props: { type: 'id_card', upload } })
    const camera = w.find('[data-testid=camera-input]')
    expect(camera.attributes('capture')).toBe('environment')
    expect(camera.attributes('accept')).toBe('image/*,application/pdf')
    expect(w.find('[data-testid=file-input]').attributes('capture')).toBeUndefined()
    expect(w.find('[data-testid=take-photo]').attributes('aria-label')).toBe('拍照上传身份证')
    await choose(w, 'camera-input', new File(['x'], 'photo.jpg', { type: 'image/jpeg' }))
    expect(seen).toEqual(['photo.jpg'])
    expect(w.emitted('uploaded')).toEqual([[stored]])
    expect(w.find('[data-testid=upload-error]').exists()).toBe(false)
  })

  it("shows the API's refusal beside the buttons, read with them", async () => {
    const upload: Uploader = async () => {
      throw new ApiError(422, problem(422, 'document_type_mismatch', '文件内容与类型不符', 'file'))
    }
    const w = mountWithApp(DocumentUpload, { props: { type: 'income_proof', upload } })
    await choose(w, 'file-input', new File(['png'], 'payslip.pdf', { type: 'application/pdf' }))
    const error = w.find('[data-testid=upload-error]')
    expect(error.text()).toBe('文件内容与类型不符')
    expect(error.attributes('data-code')).toBe('document_type_mismatch')
    expect(error.attributes('role')).toBe('alert')
    expect(w.find('[data-testid=choose-file]').attributes('aria-describedby')).toBe(error.attributes('id'))
    expect(w.emitted('uploaded')).toBeUndefined()
  })

  it('says so when the network failed', async () => {
    const upload: Uploader = async () => {
      throw new TransientError(null, 'network')
    }
    const w = mountWithApp(DocumentUpload, { props: { type: 'id_card', upload, camera: false } })
    expect(w.find('[data-testid=take-photo]').exists()).toBe(false)
    await choose(w, 'file-input', new File(['x'], 'a.jpg', { type: 'image/jpeg' }))
    expect(w.find('[data-testid=upload-error]').attributes('data-code')).toBe('transient')
  })
})
