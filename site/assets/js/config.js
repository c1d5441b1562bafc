// Reads the site's runtime settings from /config.json (written at deploy time, never baked in).

const REQUIRED = ['apiUrl', 'userPoolClientId', 'cognitoEndpoint'];

export class ConfigError extends Error {}

/**
 * Fetches and checks /config.json. `webSocketUrl` is optional: without it the app follows jobs
 * by polling.
 */
export async function loadConfig() {
  let response;
  try {
    response = await fetch('/config.json', { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    throw new ConfigError('config.json could not be fetched (network error)');
  }
  if (!response.ok) throw new ConfigError(`config.json answered HTTP ${response.status}`);
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('config.json is not valid JSON');
  }
  if (!raw || typeof raw !== 'object') throw new ConfigError('config.json is not a JSON object');
  const missing = REQUIRED.filter((key) => typeof raw[key] !== 'string' || raw[key].trim() === '');
  if (missing.length) throw new ConfigError(`config.json is missing ${missing.join(', ')}`);
  return Object.freeze({
    ...raw,
    apiUrl: raw.apiUrl.replace(/\/+$/, ''),
    webSocketUrl: typeof raw.webSocketUrl === 'string' && raw.webSocketUrl ? raw.webSocketUrl : null,
  });
}
