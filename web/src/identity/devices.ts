// A signed-in device as people name it: the browser and system from its User-Agent ("Chrome · Windows"),
// and how the session began ("Password + Authenticator").

const BROWSERS: [RegExp, string][] = [
  [/MicroMessenger\//, 'WeChat'],
  [/AlipayClient\//, 'Alipay'],
  [/Edg(?:e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/HeadlessChrome\//, 'Chrome (headless)'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/curl\//, 'curl'],
  [/python-requests|Python-urllib|httpx/i, 'Python'],
]

const SYSTEMS: [RegExp, string][] = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/HarmonyOS|OpenHarmony/, 'HarmonyOS'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
]

/** "Chrome · Windows", "Safari · iPhone"; the raw text (shortened) when neither is known; null without one. */
export function describeDevice(userAgent: string | null | undefined): string | null {
  const ua = (userAgent ?? '').trim()
  if (!ua) return null
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1]
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1]
  if (browser || system) return [browser, system].filter(Boolean).join(' · ')
  return ua.length > 40 ? `${ua.slice(0, 39)}…` : ua
}

/** The parts of a session's sign-in method ("password+totp" → ["password", "totp"]; "oauth:wechat" → ["wechat"]). */
export function methodParts(method: string): string[] {
  return method
    .split('+')
    .map((m) => m.trim())
    .filter(Boolean)
    .map((m) => (m.startsWith('oauth:') ? m.slice('oauth:'.length) : m))
}
