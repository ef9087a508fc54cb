/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { compression } from 'vite-plugin-compression2'
import { VitePWA } from 'vite-plugin-pwa'
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite'
import { offlineShell } from './scripts/offline-shell'
import { catalogueParts } from './scripts/i18n-parts'
import { iconsSplit } from './scripts/icons-split'
import { routeDocuments } from './scripts/route-documents'

// The API runs on :8000 during `npm run dev`; in production it serves web/dist itself.
const api = process.env.MICROCREDIT_API ?? 'http://127.0.0.1:8000'
// Addresses the service worker never answers for: the API, the simulators, the probes (the server's own).
const SERVER_PATHS = [/^\/api\//, /^\/_sim\//, /^\/(healthz|readyz|metrics)(\/|$)/]

/** The service worker and the web app manifest (docs/web.md, "Slow networks"). */
function serviceWorker(shell: ReturnType<typeof offlineShell>) {
  return VitePWA({
    // main.ts registers /sw.js after the page has loaded (no workbox-window in the bundle).
    injectRegister: false,
    registerType: 'autoUpdate',
    // The PNG icons are for installing (fetched by the browser when it needs them), not for offline use.
    includeManifestIcons: false,
    manifest: {
      // One manifest: the name in both languages like the page title, the short name under the icon in
      // Chinese (the default language), English in the localised members browsers that know them read.
      id: '/',
      name: '小额信贷 · Microcredit',
      short_name: '小额信贷',
      name_localized: { en: 'Microcredit' },
      short_name_localized: { en: 'Microcredit' },
      description: '小额贷款申请、还款计算与账户管理 · Microloans: apply, plan repayments, manage your account',
      lang: 'zh-CN',
      dir: 'ltr',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      orientation: 'portrait',
      background_color: '#f4f6f9',
      theme_color: '#1d5fbf',
      icons: [
        { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
    } as Record<string, unknown>,
    workbox: {
      // The borrower app's shell and pages, by content hash: a repeat visit opens without the network.
      // The staff console and the calculator's chart are left to the runtime cache (scripts/offline-shell.ts).
      globPatterns: ['**/*.{js,css,html,webmanifest}', 'favicon.svg', 'icons/icon.svg'],
      // The per-route copies of index.html are for the server's first answer (scripts/route-documents.ts);
      // the worker answers every address with the plain index.html.
      globIgnores: ['pages/**'],
      manifestTransforms: [shell.transform],
      // Any page address opens the cached shell (history-mode routes), but never a server address.
      navigateFallback: 'index.html',
      navigateFallbackDenylist: SERVER_PATHS,
      // Built files fetched after install (the chart) are kept once fetched; nothing else is cached,
      // in particular no API response (personal data must not outlive the session on a shared phone).
      runtimeCaching: [
        {
          urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname.startsWith('/assets/'),
          handler: 'CacheFirst',
          options: { cacheName: 'mc-assets', expiration: { maxEntries: 60 } },
        },
      ],
      cleanupOutdatedCaches: true,
      clientsClaim: true,
      skipWaiting: true,
      inlineWorkboxRuntime: true,
      sourcemap: false,
    },
  })
}

/**
 * The entry's stylesheets are fetched without blocking the first paint: the first screen in
 * index.html (inline CSS) shows as soon as the HTML is in, and main.ts applies these stylesheets and
 * waits for them before the app mounts (no unstyled flash). No inline script: the CSP stays strict.
 */
function nonBlockingStyles(): Plugin {
  return {
    name: 'mc-non-blocking-styles',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => html.replace(/<link rel="stylesheet" crossorigin href="([^"]+)">/g, '<link rel="preload" as="style" crossorigin href="$1" data-app-style>'),
    },
  }
}

/**
 * Element Plus's button imports a colour library (@ctrl/tinycolor) for its `color` prop alone; no
 * button here sets it, so the button gets a stand-in that fails loudly if one ever does
 * (src/platform/no-button-color.ts). Other users of the library (the staff console's menu) keep it.
 */
function noButtonColor(): Plugin {
  const stub = fileURLToPath(new URL('./src/platform/no-button-color.ts', import.meta.url))
  return {
    name: 'mc-no-button-color',
    enforce: 'pre',
    apply: 'build',
    resolveId(id, importer) {
      if (id === '@ctrl/tinycolor' && importer && /element-plus[\\/]es[\\/]components[\\/]button[\\/]/.test(importer)) return stub
      return null
    },
  }
}

/**
 * The scripts every page runs at start-up (the entry, the bundler's runtime, vendor, base) are
 * marked for V8's explicit compile hints (`//# allFunctionsCalledOnLoad`, Chromium 136+): their
 * functions are compiled while the file streams in, off the main thread, instead of one by one on
 * the main thread when first called. Other browsers read a comment. Measured: docs/performance.md
 * (issue 20, sixth look).
 */
function compileHints(): Plugin {
  const START = /^(index|vendor|base|rolldown-runtime)$/
  const HINT = '//# allFunctionsCalledOnLoad\n'
  return {
    name: 'mc-compile-hints',
    apply: 'build',
    enforce: 'post',
    // Last: after minifying (which drops comments) and after Vite has put its preload list at the top
    // of the entry; the comment must be the file's first line. The precompressed copies made
    // meanwhile are made again. The same comment on the same file keeps its hash true.
    generateBundle: {
      order: 'post',
      handler(_, bundle) {
        for (const chunk of Object.values(bundle)) {
          if (chunk.type !== 'chunk' || !(chunk.isEntry || START.test(chunk.name)) || chunk.code.startsWith(HINT)) continue
          chunk.code = HINT + chunk.code
          const brotli = bundle[`${chunk.fileName}.br`]
          if (brotli?.type === 'asset') brotli.source = brotliCompressSync(chunk.code, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } })
          const gzip = bundle[`${chunk.fileName}.gz`]
          if (gzip?.type === 'asset') gzip.source = gzipSync(chunk.code, { level: 9 })
        }
      },
    },
  }
}

const shell = offlineShell(fileURLToPath(new URL('.', import.meta.url)))

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus components and services (ElMessage, ...) are imported on demand, with their CSS.
    AutoImport({ resolvers: [ElementPlusResolver()], dts: 'src/auto-imports.d.ts' }),
    Components({ resolvers: [ElementPlusResolver()], dts: 'src/components.d.ts', dirs: [] }),
    ...(process.env.VITEST
      ? []
      : [
          // Each catalogue in two parts, the borrower app's and the rest (scripts/i18n-parts.ts).
          catalogueParts(fileURLToPath(new URL('.', import.meta.url))),
          // The catalogues are compiled at build time, so the bundle carries vue-i18n's runtime only
          // (no message compiler). Tests (VITEST) read the catalogues as plain strings.
          VueI18nPlugin({
            include: ['en', 'zh-CN', 'en.borrower', 'zh-CN.borrower', 'en.staff', 'zh-CN.staff']
              .map((name) => fileURLToPath(new URL(`./src/i18n/${name}.ts`, import.meta.url))),
            runtimeOnly: true,
            compositionOnly: true,
            fullInstall: true,
            dropMessageCompiler: true,
          }),
          nonBlockingStyles(),
          noButtonColor(),
          compileHints(),
          // One module per icon, so each page carries only its own icons (scripts/icons-split.ts).
          iconsSplit(),
          shell.plugin,
          // A copy of index.html per borrower route naming the route's chunks; api/static.py serves it.
          routeDocuments(fileURLToPath(new URL('.', import.meta.url))),
          serviceWorker(shell),
          // Brotli and gzip copies beside every text file worth it; api/static.py serves the best one.
          compression({ algorithms: ['brotliCompress', 'gzip'], threshold: 1024, include: /\.(js|mjs|css|html|svg|json|webmanifest)$/, logLevel: 'silent' }),
        ]),
  ],
  // vue-i18n: Composition API only, no devtools hooks in production (a smaller bundle).
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    // No component here or in Element Plus uses the Options API (data/methods/computed objects).
    __VUE_OPTIONS_API__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    proxy: { '/api': api, '/_sim': api },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        codeSplitting: {
          // Vue, the router, Pinia, vue-i18n (runtime) and the API client change together and rarely:
          // one long-cached file instead of pieces spread over the app's chunks.
          groups: [
            { name: 'vendor', test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify|openapi-fetch)[\\/]/, priority: 1 },
            // Element Plus's base every page runs (the config provider, its hooks and utilities, VueUse):
            // one file with the app's entry instead of several small ones, each a request with its headers.
            // With it the bundler's runtime, Vite's preload helper and the borrower catalogue part (src/i18n).
            { name: 'base', test: /node_modules[\\/](@vueuse[\\/]|lodash-es[\\/]castArray|element-plus[\\/]es[\\/](utils|constants|locale|hooks[\\/](use-namespace|use-global-config|use-z-index|use-locale|use-size|use-empty-values|use-id)|components[\\/]config-provider)[\\/])|^\0(vite[\\/]preload-helper|rolldown[\\/]runtime)|[\\/]src[\\/]i18n[\\/](index|zh-CN\.borrower)\.ts$/, priority: 1 },
          ],
          // Element Plus splits into dozens of small shared chunks; on a 150 ms round trip each costs
          // more in latency and headers than its bytes. Common chunks under 25 KB (before minifying)
          // are copied into the chunks that use them instead (measured: bench/web_vitals.mjs).
          experimentalInlineCommonChunks: { maxSize: 25_000 },
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.ts'],
    setupFiles: ['src/test/fetch.ts', 'src/test/setup.ts'],
    css: false,
    // Component specs mount Element Plus in jsdom: on two shared cores one can take 5-9 s.
    testTimeout: 15_000,
    server: { deps: { inline: ['element-plus'] } },
  },
})
