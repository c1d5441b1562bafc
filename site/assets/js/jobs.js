// Following a generation job: live pushes from the WebSocket API, with polling of
// GET /api/v1/jobs/{id} when the socket is unavailable (and, slowly, as a backstop when it is).

export const JOB_STEPS = ['queued', 'transcribing', 'weather', 'prompting', 'generating', 'storing', 'done'];
export const TERMINAL = new Set(['done', 'failed']);

const CONNECT_TIMEOUT_MS = 5_000;
const POLL_MS = 2_000;
/** With a live socket, an occasional poll still catches a push that got lost. */
const BACKSTOP_POLL_MS = 10_000;
/** Well past the server's own job timeout; after this the page stops waiting. */
const GIVE_UP_MS = 10 * 60 * 1000;
/** Pushes kept for a listener that subscribes late (see JobSocket.onJob). */
const RECENT_PUSHES = 50;

/** A WebSocket connection to the job push API, authorised with the id token in the query string. */
export class JobSocket {
  #socket;
  #listeners = new Set();
  #closeListeners = new Set();
  #recent = [];

  constructor(socket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message?.type !== 'job' || !message.jobId) return;
      this.#recent.push(message);
      if (this.#recent.length > RECENT_PUSHES) this.#recent.shift();
      this.#listeners.forEach((listener) => listener(message));
    });
    socket.addEventListener('close', () => this.#closeListeners.forEach((listener) => listener()));
  }

  /** Opens a socket, or resolves null when there is no WebSocket URL or it does not open in time. */
  static async open(webSocketUrl, idToken) {
    if (!webSocketUrl || typeof WebSocket === 'undefined' || !navigator.onLine) return null;
    let socket;
    try {
      const url = new URL(webSocketUrl);
      url.searchParams.set('token', idToken);
      socket = new WebSocket(url);
    } catch {
      return null;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.close();
        resolve(null);
      }, CONNECT_TIMEOUT_MS);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new JobSocket(socket));
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
  }

  get alive() {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /**
   * The job's first pushes can arrive before the page knows the job id (the worker starts while
   * the generate answer is still on its way): a new listener first gets the pushes so far.
   */
  onJob(listener) {
    this.#listeners.add(listener);
    this.#recent.forEach((message) => listener(message));
    return () => this.#listeners.delete(listener);
  }

  onClose(listener) {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  close() {
    this.#listeners.clear();
    this.#closeListeners.clear();
    this.#recent = [];
    if (this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000);
  }
}

/**
 * Follows one job until it is done or failed.
 * `onUpdate(job)` gets every new state (fields merged across messages), `onChannel("live"|"polling")`
 * says how updates arrive, `onPollError(error)` reports a failed poll (polling continues).
 * Returns {finished: Promise<job>, stop()}; `finished` resolves with {status: "timeout"} on giving up
 * and {status: "cancelled"} when stopped early.
 */
export function trackJob({ api, socket, jobId, onUpdate, onChannel = () => {}, onPollError = () => {} }) {
  let job = { jobId, status: 'queued' };
  let stopped = false;
  let pollTimer = 0;
  let giveUpTimer = 0;
  let resolveFinished;
  const finished = new Promise((resolve) => {
    resolveFinished = resolve;
  });
  const unsubscribe = [];

  const live = () => Boolean(socket && socket.alive);

  function stop() {
    if (stopped) return;
    stopped = true;
    clearTimeout(pollTimer);
    clearTimeout(giveUpTimer);
    unsubscribe.forEach((fn) => fn());
    // Settles `finished` for a caller that stops early; after a final state this is a no-op.
    resolveFinished({ ...job, status: 'cancelled' });
  }

  function apply(update) {
    if (stopped || !update || (update.jobId && update.jobId !== jobId)) return;
    // A late poll answer must not move the job back to an earlier state.
    if (!TERMINAL.has(update.status) && rank(update.status) < rank(job.status)) return;
    job = { ...job, ...stripUndefined(update), jobId };
    onUpdate(job);
    if (TERMINAL.has(job.status)) {
      resolveFinished(job);
      stop();
    }
  }

  async function poll() {
    if (stopped) return;
    try {
      apply(await api.job(jobId));
    } catch (error) {
      onPollError(error);
    }
    schedule();
  }

  function schedule() {
    if (stopped) return;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, live() ? BACKSTOP_POLL_MS : POLL_MS);
  }

  if (socket) {
    unsubscribe.push(socket.onJob(apply));
    unsubscribe.push(
      socket.onClose(() => {
        if (stopped) return;
        onChannel('polling');
        schedule();
      }),
    );
  }
  onChannel(live() ? 'live' : 'polling');

  const onOnline = () => {
    if (!stopped) {
      clearTimeout(pollTimer);
      poll();
    }
  };
  window.addEventListener('online', onOnline);
  unsubscribe.push(() => window.removeEventListener('online', onOnline));

  giveUpTimer = setTimeout(() => {
    if (stopped) return;
    resolveFinished({ ...job, status: 'timeout' });
    stop();
  }, GIVE_UP_MS);

  // Ask once straight away: states pushed before we subscribed are not lost.
  poll();
  return { finished, stop };
}

function rank(status) {
  const index = JOB_STEPS.indexOf(status);
  return index === -1 ? -1 : index;
}

function stripUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}
