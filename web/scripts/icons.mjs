// Renders the app icons (web/public/icons/*.png) from their SVG sources with Chromium:
//     cd web && node scripts/icons.mjs public/icons
// Run it after changing icon.svg or maskable.svg; the PNGs are committed.
import { chromium } from '@playwright/test'
import { readFileSync } from 'node:fs'
const dir = process.argv[2]
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
const page = await browser.newPage()
for (const [src, out, size, transparent] of [
  ['icon.svg', 'icon-192.png', 192, true], ['icon.svg', 'icon-512.png', 512, true],
  ['maskable.svg', 'maskable-512.png', 512, false], ['maskable.svg', 'apple-touch-icon.png', 180, false],
]) {
  const svg = readFileSync(`${dir}/${src}`, 'utf8')
  await page.setViewportSize({ width: size, height: size })
  await page.setContent(`<html><body style="margin:0;background:transparent"><img style="display:block;width:${size}px;height:${size}px" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></body></html>`)
  await page.screenshot({ path: `${dir}/${out}`, omitBackground: transparent })
}
await browser.close()
