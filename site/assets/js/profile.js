// The profile view: display name and language (GET/PUT /api/v1/me). Field names and limits are
// the API's (`mumble_contract::api::Profile` and `ProfileUpdate`; see `cargo xtask openapi`).

import { lang, setLanguage, LANGUAGES } from './i18n.js';
import { byId, setText, clearText, reportError } from './ui.js';

// `DISPLAY_NAME_MAX_CHARS` in mumble_contract::api, in characters (a stacks test keeps them equal).
const MAX_DISPLAY_NAME = 50;

/** "zh-CN", "zh_cn", "zh" → "zh"; anything English → "en"; unknown → null. */
export function normaliseLanguage(value) {
  const lower = String(value ?? '').toLowerCase();
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  return null;
}

/**
 * @param {{api: object, auth: import('./auth.js').Auth, onProfile: (profile: object) => void}} deps
 *   `onProfile` is told about every profile loaded or saved (the header shows the name).
 */
export function createProfileView({ api, auth, onProfile }) {
  const el = {
    form: byId('profile-form'),
    email: byId('profile-email'),
    displayName: byId('profile-display-name'),
    language: byId('profile-language'),
    error: byId('profile-error'),
    status: byId('profile-status'),
    save: byId('profile-save'),
  };
  el.displayName.maxLength = MAX_DISPLAY_NAME;

  let profile = null;
  let loading = null;
  let generation = 0;

  function fill() {
    el.email.value = profile?.email || auth.email;
    el.displayName.value = profile?.displayName ?? '';
    el.language.value = normaliseLanguage(profile?.preferredLanguage) ?? lang();
  }

  /** Loads the profile once per session (the API creates it on first read). */
  function load() {
    if (!loading) {
      const myGeneration = generation;
      loading = api
        .me()
        .then((answer) => {
          if (myGeneration !== generation) return null;
          profile = answer ?? {};
          onProfile(profile);
          return profile;
        })
        .catch((error) => {
          loading = null;
          throw error;
        });
    }
    return loading;
  }

  el.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.error);
    clearText(el.status);
    const displayName = el.displayName.value.trim();
    // The API counts characters (code points), not UTF-16 units.
    if ([...displayName].length > MAX_DISPLAY_NAME) {
      setText(el.error, 'profile.tooLong', { max: MAX_DISPLAY_NAME });
      el.displayName.focus();
      return;
    }
    const language = LANGUAGES.includes(el.language.value) ? el.language.value : lang();
    // A blank name keeps the current one (the API refuses a blank name).
    const changes = { preferredLanguage: language };
    if (displayName) changes.displayName = displayName;
    el.save.disabled = true;
    try {
      const saved = await api.saveMe(changes);
      profile = { ...(profile ?? {}), ...changes, ...(saved ?? {}) };
      onProfile(profile);
      setLanguage(normaliseLanguage(profile.preferredLanguage) ?? language);
      fill();
      setText(el.status, 'profile.saved');
    } catch (error) {
      reportError(error, el.error);
    } finally {
      el.save.disabled = false;
    }
  });

  return {
    load,
    /** The language for transcription and weather: the profile's, else the page's. */
    language() {
      return normaliseLanguage(profile?.preferredLanguage) ?? lang();
    },
    async show() {
      clearText(el.status);
      clearText(el.error);
      fill();
      try {
        await load();
        fill();
      } catch (error) {
        reportError(error, el.error);
      }
    },
    reset() {
      generation += 1;
      profile = null;
      loading = null;
      el.form.reset();
      clearText(el.error);
      clearText(el.status);
    },
  };
}
