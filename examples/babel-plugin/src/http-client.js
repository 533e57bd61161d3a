export function userAgent(platform = 'node') {
  return `${__APP_NAME__}/${__APP_VERSION__} (${platform})`;
}

export function defaultHeaders(extra = {}) {
  return {
    'User-Agent': userAgent(),
    'X-Client-Version': __APP_VERSION__,
    ...extra,
  };
}

export function describeShadowing() {
  // A local binding with the same name is not touched by the plugin.
  const __APP_VERSION__ = 'local-value';
  return __APP_VERSION__;
}
