// The network as the browser sees it (for the offline notice), and the service worker that keeps the
// app shell and the built files for a repeat visit on a flaky signal (never API data: see docs/web.md).
import { readonly, ref } from 'vue'

const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
if (typeof window !== 'undefined') {
  window.addEventListener('online', () => (online.value = true))
  window.addEventListener('offline', () => (online.value = false))
}

/** Whether the browser has a network connection (false as soon as it loses it). */
export function useOnline() {
  return readonly(online)
}

/** Register the service worker once the page has loaded (a production build only). */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return
  const register = () => void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined)
  if (document.readyState === 'complete') register()
  else window.addEventListener('load', register, { once: true })
}
