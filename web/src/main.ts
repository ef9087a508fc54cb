import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/base.css'
// The services called from code (ElMessage, ElMessageBox) are imported by name, which the on-demand
// resolver does not see: ElMessage's CSS comes from here; ElMessageBox's (with the inputs and buttons
// it renders) with the staff console's frame and with platform/message-box.ts, the borrower's pages'
// lazy one, so that a borrower's first load does not carry it (issue 20).
import 'element-plus/es/components/message/style/css'
import './styles.css'
import App from './App.vue'
import { i18n, currentLocale, restoreLocale } from './i18n'
import { createAppRouter, preloadRoute } from './router'
import { configureClient } from './api/client'
import { useSession } from './identity/stores/session'
import { registerServiceWorker } from './platform/offline'

/** Turn the preloaded stylesheets of index.html (data-app-style, see vite.config.ts) on and wait for them. */
function applyStyles(): Promise<unknown> {
  const links = [...document.querySelectorAll<HTMLLinkElement>('link[data-app-style]')]
  return Promise.all(links.map((link) => new Promise((done) => {
    link.addEventListener('load', done, { once: true })
    link.addEventListener('error', done, { once: true })
    link.rel = 'stylesheet'
  })))
}

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
const router = createAppRouter()
app.use(router)

const session = useSession(pinia)
preloadRoute(router, window.location.pathname + window.location.search, session.signedIn)
configureClient({
  token: () => session.token,
  language: () => currentLocale(),
  // An expired or revoked session: back to the sign-in page, then back to where the user was.
  onUnauthorized: () => {
    const current = router.currentRoute.value
    const staff = session.isStaff || current.path.startsWith('/staff')
    session.clear()
    if (current.meta.guest) return
    void router.push({
      name: staff ? 'staff-login' : 'login',
      query: { redirect: current.fullPath, expired: '1' },
    })
  },
})
// The remembered language's catalogue first (English is its own chunk), so the first paint is in it;
// and the app's stylesheets, which index.html fetches without blocking its own first screen.
await Promise.all([restoreLocale(), applyStyles()])
document.documentElement.lang = currentLocale()
app.mount('#app')
registerServiceWorker()
