// The offline notice: shown (in a polite live region) while the browser is offline, briefly "back".
import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import OfflineNotice from './OfflineNotice.vue'
import { mountWithApp } from '@/test/mount'

describe('OfflineNotice', () => {
  it('appears when the connection drops and says so when it is back', async () => {
    const w = mountWithApp(OfflineNotice)
    expect(w.find('[aria-live=polite]').exists()).toBe(true)
    expect(w.find('[data-testid=offline-notice]').exists()).toBe(false)

    window.dispatchEvent(new Event('offline'))
    await nextTick()
    expect(w.find('[data-testid=offline-notice]').text()).toContain('网络已断开')

    window.dispatchEvent(new Event('online'))
    await nextTick()
    expect(w.find('[data-testid=offline-notice]').exists()).toBe(false)
    expect(w.text()).toContain('网络已恢复')
  })
})
