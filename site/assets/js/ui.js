// Shared DOM helpers: translated text, the live and alert regions, dialogs, and formatting.

import { t, has, langTag } from './i18n.js';
import { AuthError } from './auth.js';
import { ApiError, UploadError } from './api.js';

export const byId = (id) => document.getElementById(id);

/** Sets translated text on `el` and remembers the key, so a language switch re-translates it. */
export function setText(el, key, params = {}) {
  el.dataset.i18n = key;
  if (Object.keys(params).length) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
}

/** Sets text that is data, not UI copy (a transcript, a date): not re-translated. */
export function setPlainText(el, text) {
  delete el.dataset.i18n;
  delete el.dataset.i18nParams;
  el.textContent = text;
}

export function clearText(el) {
  setPlainText(el, '');
}

/** Creates an element with properties/attributes and children (no HTML strings anywhere). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child);
  }
  return el;
}

/** Tells screen reader users about progress without moving focus. */
export function announce(key, params = {}) {
  const region = byId('live-region');
  // Clearing first makes repeated identical messages announced again.
  region.textContent = '';
  window.setTimeout(() => setText(region, key, params), 50);
}

/** Shows an error in the page's alert region (announced immediately). */
export function showError(key, params = {}) {
  const region = byId('error-message');
  setText(region, key, params);
}

export function clearError() {
  clearText(byId('error-message'));
}

/** The translated message key and parameters for any error the app can meet. Only Mumble's own
 * words reach the user: the text other systems send (Cognito, the API's English messages, the
 * browser's) goes to the console, never onto the page. */
export function describeError(error) {
  if (error instanceof AuthError) {
    const key = `auth.error.${error.code}`;
    return has(key) ? { key, params: {} } : { key: 'auth.error.unknown', params: {} };
  }
  if (error instanceof UploadError) {
    return error.status ? { key: 'upload.failed', params: { status: error.status } } : { key: 'upload.network', params: {} };
  }
  if (error instanceof ApiError) {
    if (error.code === 'offline') return { key: 'error.offline', params: {} };
    if (error.status === 0) return { key: 'error.network', params: {} };
    if (error.status === 401) return { key: 'error.sessionExpired', params: {} };
    // Limits the user can act on get a sentence in their language rather than the API's English.
    if (error.code === 'quota_exceeded') {
      const hours = Math.max(1, Math.ceil((error.retryAfter ?? 0) / 3600));
      return { key: 'error.quotaExceeded', params: { hours } };
    }
    if (error.code === 'recording_used') return { key: 'error.recordingUsed', params: {} };
    const byCode = `error.code.${error.code}`;
    if (has(byCode)) return { key: byCode, params: {} };
    if (error.status === 404) return { key: 'error.notFound', params: {} };
    if (error.status === 413) return { key: 'error.tooLarge', params: {} };
    if (error.status === 415) return { key: 'error.unsupportedType', params: {} };
    if (error.status === 429) return { key: 'error.rateLimited', params: {} };
    if (error.status >= 400 && error.status < 500) return { key: 'error.rejected', params: {} };
    return { key: 'error.server', params: { status: error.status } };
  }
  return { key: 'error.unknown', params: {} };
}

/** Shows `error` in `el` (a form's error line) or, without `el`, in the page's alert region. */
export function reportError(error, el) {
  const { key, params } = describeError(error);
  if (el) setText(el, key, params);
  else showError(key, params);
  // The other system's own words, for a developer with the console open.
  if (error instanceof AuthError || error instanceof ApiError) console.warn(error.message);
  else if (!(error instanceof UploadError)) console.error(error);
}

/**
 * Opens a modal dialog and returns focus to the element that opened it when it closes.
 * The native <dialog> keeps focus inside and closes on Escape.
 */
export function openDialog(dialog, opener = document.activeElement) {
  dialog.addEventListener(
    'close',
    () => {
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    },
    { once: true },
  );
  dialog.showModal();
}

/** Shows exactly one of the elements, hiding the rest. */
export function showOnly(elements, visible) {
  for (const el of elements) el.hidden = el !== visible;
}

export function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(langTag(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function formatDuration(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** One line for the weather, whether the API sends a sentence or {description, temperature, location}. */
export function formatWeather(weather) {
  if (!weather) return '';
  if (typeof weather === 'string') return weather;
  const parts = [];
  if (weather.location) parts.push(weather.location);
  if (weather.description) parts.push(weather.description);
  const temperature = Number(weather.temperature);
  if (weather.temperature !== undefined && weather.temperature !== null && Number.isFinite(temperature)) {
    parts.push(`${Math.round(temperature)} °C`);
  }
  return parts.join(' · ');
}

/** A job or API error reason as text, whether it is a string or {code, message}. */
export function reasonText(reason) {
  if (!reason) return '';
  if (typeof reason === 'string') return reason;
  return reason.message || reason.code || '';
}
