// The gallery: the user's pictures newest first, loaded a page at a time, with a detail dialog
// (download, delete with confirmation) and an empty state.

import { t } from './i18n.js';
import { cleanPrompt, describePicture, weatherText } from './describe.js';
import {
  byId,
  h,
  setText,
  setPlainText,
  clearText,
  announce,
  openDialog,
  reportError,
  formatDate,
} from './ui.js';

const PAGE_SIZE = 24;

export function createGallery({ api }) {
  const el = {
    grid: byId('gallery-grid'),
    empty: byId('gallery-empty'),
    more: byId('gallery-more'),
    status: byId('gallery-status'),
    sentinel: byId('gallery-sentinel'),
    dialog: byId('image-dialog'),
    close: byId('image-dialog-close'),
    image: byId('detail-image'),
    transcript: byId('detail-transcript'),
    description: byId('detail-description'),
    prompt: byId('detail-prompt'),
    promptDetails: byId('detail-prompt-details'),
    weather: byId('detail-weather'),
    date: byId('detail-date'),
    detailError: byId('detail-error'),
    download: byId('detail-download'),
    remove: byId('detail-delete'),
    confirm: byId('confirm-dialog'),
    confirmCancel: byId('confirm-cancel'),
    confirmDelete: byId('confirm-delete'),
  };

  let items = [];
  let cursor = null;
  let loaded = false;
  let stale = true;
  let loading = false;
  let generation = 0; // bumps on reset so answers for a previous user are dropped
  let selected = null;
  let visible = false;

  // Load the next page when the end of the grid scrolls into view; the button stays for keyboards.
  const observer =
    'IntersectionObserver' in window
      ? new IntersectionObserver((entries) => {
          if (entries.some((entry) => entry.isIntersecting) && visible && cursor && !loading) loadPage();
        }, { rootMargin: '400px 0px' })
      : null;
  observer?.observe(el.sentinel);

  el.more.addEventListener('click', () => loadPage());
  el.close.addEventListener('click', () => el.dialog.close());
  el.dialog.addEventListener('click', (event) => {
    // A click on the backdrop closes the dialog; the backdrop reports the dialog as its target,
    // so tell it from the dialog's own padding by position.
    if (event.target !== el.dialog) return;
    const box = el.dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) el.dialog.close();
  });
  el.download.addEventListener('click', () => download());
  el.remove.addEventListener('click', () => {
    clearText(el.detailError);
    openDialog(el.confirm, el.remove);
  });
  el.confirmCancel.addEventListener('click', () => el.confirm.close());
  el.confirmDelete.addEventListener('click', () => removeSelected());
  el.image.addEventListener('error', () => refreshSelectedUrls());
  window.addEventListener('mumble:lang', () => {
    // Dates and labels are formatted for the language.
    for (const button of el.grid.querySelectorAll('[data-testid="gallery-item"]')) {
      const item = items.find((candidate) => candidate.imageId === button.dataset.imageId);
      if (!item) continue;
      button.setAttribute('aria-label', itemLabel(item));
      const time = button.querySelector('time');
      if (time) time.textContent = formatDate(item.createdAt);
    }
    if (selected) {
      el.date.textContent = formatDate(selected.createdAt);
      renderFacts(selected);
    }
  });

  async function loadPage({ fresh = false } = {}) {
    if (loading) return;
    loading = true;
    let continueIfEndVisible = false;
    const myGeneration = generation;
    el.grid.setAttribute('aria-busy', 'true');
    setText(el.status, 'gallery.loading');
    el.more.disabled = true;
    try {
      const page = await api.images(fresh ? null : cursor, PAGE_SIZE);
      if (myGeneration !== generation) return;
      if (fresh) {
        items = [];
        el.grid.replaceChildren();
      }
      const known = new Set(items.map((item) => item.imageId));
      const added = (page?.items ?? []).filter((item) => item?.imageId && !known.has(item.imageId));
      items.push(...added);
      el.grid.append(...added.map(renderItem));
      cursor = page?.nextCursor || null;
      loaded = true;
      stale = false;
      clearText(el.status);
      if (items.length) announce('gallery.loaded', { count: items.length });
      continueIfEndVisible = true;
    } catch (error) {
      if (myGeneration !== generation) return;
      clearText(el.status);
      reportError(error);
    } finally {
      if (myGeneration === generation) {
        loading = false;
        el.grid.setAttribute('aria-busy', 'false');
        el.more.disabled = false;
        renderChrome();
      }
    }
    // On a tall screen one page may not reach the end of the grid: the observer will not fire
    // again by itself, so keep going while the end is in view.
    if (continueIfEndVisible && visible && cursor && endInView()) loadPage();
  }

  function endInView() {
    const { top } = el.sentinel.getBoundingClientRect();
    return top < window.innerHeight + 400;
  }

  function renderChrome() {
    el.empty.hidden = !loaded || items.length > 0;
    el.more.hidden = !cursor;
  }

  function itemLabel(item) {
    const date = formatDate(item.createdAt);
    const words = (item.transcript || '').slice(0, 80);
    return words ? `${t('gallery.itemLabel', { date })}: ${words}` : t('gallery.itemLabel', { date });
  }

  function renderItem(item) {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'tile',
        'data-testid': 'gallery-item',
        'data-image-id': item.imageId,
        'aria-label': itemLabel(item),
      },
      // A picture lost in the move from the old Mumble: its words stay, with a note instead.
      item.unavailable
        ? h('span', { class: 'tile-unavailable', 'data-testid': 'gallery-unavailable' }, t('gallery.unavailable'))
        : h('img', {
            src: item.thumbnailUrl || item.imageUrl || '',
            alt: '',
            loading: 'lazy',
            decoding: 'async',
            width: '256',
            height: '256',
            'data-testid': 'gallery-thumb',
          }),
    );
    button.addEventListener('click', () => openDetail(item, button));
    // The date and the first words under each tile, so pictures can be told apart at a glance.
    const caption = h(
      'span',
      { class: 'tile-caption', 'data-testid': 'gallery-caption', 'aria-hidden': 'true' },
      h('time', { dateTime: item.createdAt || '' }, formatDate(item.createdAt)),
      h('span', { class: 'tile-words' }, (item.transcript || '').slice(0, 120)),
    );
    return h('li', { class: 'grid-item' }, button, caption);
  }

  function openDetail(item, opener) {
    selected = item;
    clearText(el.detailError);
    el.image.hidden = Boolean(item.unavailable);
    if (item.unavailable) {
      el.image.removeAttribute('src');
      setText(el.detailError, 'gallery.unavailable');
    } else el.image.src = item.imageUrl || item.thumbnailUrl || '';
    el.image.alt = (item.transcript || '').slice(0, 140);
    setPlainText(el.transcript, item.transcript || '—');
    renderFacts(item);
    el.promptDetails.open = false;
    el.promptDetails.hidden = !item.prompt;
    el.date.textContent = formatDate(item.createdAt);
    el.date.dateTime = item.createdAt || '';
    el.dialog.dataset.imageId = item.imageId;
    openDialog(el.dialog, opener);
    el.close.focus();
  }

  /** The description and weather line, in the current language. */
  function renderFacts(item) {
    setPlainText(el.description, describePicture(item) || '—');
    setPlainText(el.prompt, cleanPrompt(item.prompt));
    setPlainText(el.weather, weatherText(item));
  }

  /** Presigned URLs expire: when the full image fails to load, ask the API for fresh ones once. */
  async function refreshSelectedUrls() {
    if (!selected || selected.refreshed || selected.unavailable) return;
    selected.refreshed = true;
    try {
      const fresh = await api.image(selected.imageId);
      Object.assign(selected, fresh);
      if (fresh?.imageUrl) el.image.src = fresh.imageUrl;
    } catch (error) {
      reportError(error, el.detailError);
    }
  }

  async function download() {
    if (!selected) return;
    const url = selected.imageUrl;
    const filename = `mumble-${selected.imageId}.png`;
    try {
      // Fetching to a blob makes the browser save the file with a good name even cross-origin.
      const response = await fetch(url, { mode: 'cors' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const objectUrl = URL.createObjectURL(await response.blob());
      const link = h('a', { href: objectUrl, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
    } catch {
      // Blocked (CORS or connect-src): let the browser open the image, where it can be saved.
      if (url) window.open(url, '_blank', 'noopener');
      else setText(el.detailError, 'detail.downloadFailed');
    }
  }

  async function removeSelected() {
    if (!selected) return;
    const item = selected;
    el.confirmDelete.disabled = true;
    try {
      await api.deleteImage(item.imageId);
    } catch (error) {
      // Already gone counts as deleted; anything else is shown in the detail view.
      if (error?.status !== 404) {
        el.confirmDelete.disabled = false;
        el.confirm.close();
        reportError(error, el.detailError);
        return;
      }
    }
    el.confirmDelete.disabled = false;
    items = items.filter((candidate) => candidate.imageId !== item.imageId);
    el.grid.querySelector(`[data-image-id="${CSS.escape(item.imageId)}"]`)?.closest('li')?.remove();
    selected = null;
    el.confirm.close();
    el.dialog.close();
    renderChrome();
    clearText(el.status);
    announce('gallery.deleted');
    // The opener tile is gone: put focus somewhere sensible.
    (el.grid.querySelector('[data-testid="gallery-item"]') ?? byId('view-gallery').querySelector('h1'))?.focus();
  }

  return {
    show() {
      visible = true;
      if (stale || !loaded) {
        cursor = null;
        loadPage({ fresh: true });
      }
    },
    hide() {
      visible = false;
    },
    /** A new picture exists: reload from the top next time the gallery is shown. */
    markStale() {
      stale = true;
    },
    /** Sign-out: forget the previous user's pictures. */
    reset() {
      generation += 1;
      items = [];
      cursor = null;
      loaded = false;
      stale = true;
      loading = false;
      selected = null;
      el.grid.replaceChildren();
      el.grid.setAttribute('aria-busy', 'false');
      clearText(el.status);
      el.more.disabled = false;
      if (el.confirm.open) el.confirm.close();
      if (el.dialog.open) el.dialog.close();
      renderChrome();
    },
  };
}
