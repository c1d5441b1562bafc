// Start-up and navigation: reads config.json, wires the views together, follows the session,
// the language switch and the network state.

import { applyLanguage, setLanguage, lang } from './i18n.js';
import { loadConfig } from './config.js';
import { Auth } from './auth.js';
import { createApi } from './api.js';
import { createAccountView } from './account.js';
import { createRecordView } from './generate.js';
import { createGallery } from './gallery.js';
import { createProfileView } from './profile.js';
import { byId, clearError, setPlainText } from './ui.js';

const APP_VIEWS = ['record', 'gallery', 'profile'];
const DEFAULT_VIEW = 'record';

const sections = () => [...document.querySelectorAll('main > .view')];

function showSection(id) {
  for (const section of sections()) section.hidden = section.id !== id;
}

function wireLanguageSwitch() {
  const select = byId('lang-select');
  select.value = lang();
  select.addEventListener('change', () => setLanguage(select.value));
  window.addEventListener('mumble:lang', () => {
    select.value = lang();
  });
}

function wireNetworkState() {
  const banner = byId('offline-banner');
  const update = () => {
    banner.hidden = navigator.onLine;
    document.body.classList.toggle('is-offline', !navigator.onLine);
  };
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  update();
}

async function start() {
  applyLanguage();
  wireLanguageSwitch();
  wireNetworkState();

  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    setPlainText(byId('config-error-detail'), error.message);
    showSection('view-config-error');
    return;
  }

  const auth = new Auth(config);
  const api = createApi(config, auth);
  const account = createAccountView({ auth });
  const gallery = createGallery({ api });
  const profile = createProfileView({ api, auth, onProfile: showUser });
  const record = createRecordView({
    config,
    auth,
    api,
    language: () => profile.language(),
    onImageCreated: () => gallery.markStale(),
  });
  const views = { record, gallery, profile };

  const nav = byId('main-nav');
  const userName = byId('user-name');
  const signOutButton = byId('signout-button');
  let currentView = null;

  function showUser(details) {
    const name = details?.displayName || auth.email;
    setPlainText(userName, name);
    userName.hidden = !auth.signedIn || !name;
  }

  function renderHeader() {
    nav.hidden = !auth.signedIn;
    signOutButton.hidden = !auth.signedIn;
    if (auth.signedIn) showUser(null);
    else userName.hidden = true;
  }

  function route({ focus = false } = {}) {
    if (!auth.signedIn) {
      if (currentView) views[currentView].hide?.();
      currentView = null;
      showSection('view-auth');
      account.show();
      return;
    }
    const requested = (location.hash.match(/^#\/([a-z]+)/) ?? [])[1];
    const name = APP_VIEWS.includes(requested) ? requested : DEFAULT_VIEW;
    if (currentView && currentView !== name) views[currentView].hide?.();
    currentView = name;
    showSection(`view-${name}`);
    for (const link of nav.querySelectorAll('[data-view-link]')) {
      if (link.dataset.viewLink === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    views[name].show();
    if (focus) byId(`view-${name}`).querySelector('h1')?.focus();
  }

  auth.addEventListener('change', (event) => {
    clearError();
    if (!auth.signedIn) {
      for (const view of Object.values(views)) view.reset();
      account.reset({ noticeKey: event.detail?.expired ? 'auth.sessionExpired' : 'auth.signedOut' });
    } else {
      profile.load().catch(() => {
        // The header falls back to the email; the profile view shows the error when opened.
      });
    }
    renderHeader();
    route();
  });
  signOutButton.addEventListener('click', () => auth.signOut());
  window.addEventListener('hashchange', () => {
    clearError();
    route({ focus: true });
  });

  renderHeader();
  if (auth.signedIn) profile.load().catch(() => {});
  route();
}

start();
