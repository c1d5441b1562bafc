// Small wrapper around localStorage: private browsing modes can make it throw, and losing a
// saved preference must never stop the app.

export const storage = {
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  getJson(key) {
    const raw = this.get(key);
    if (!raw) return null;
    try {
      return JSON.parse(raw);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch {
      // Quota or privacy mode: the value simply does not survive a reload.
    }
  },
  setJson(key, value) {
    this.set(key, JSON.stringify(value));
  },
  remove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch {
      // Nothing stored means nothing to remove.
    }
  },
};
