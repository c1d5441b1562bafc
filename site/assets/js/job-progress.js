// A started job: followed live or by polling, its status and steps, then its failure or the finished picture.

import { JobSocket, JOB_STEPS, trackJob } from './jobs.js';
import { byId, setText, setPlainText, clearText, announce, showError, clearError, reportError } from './ui.js';
import { has, t } from './i18n.js';
import { weatherText } from './describe.js';

/**
 * `onRetry` sends the same take again; `onRecordAnother` starts over for a new recording.
 * @param {{config: object, auth: import('./auth.js').Auth, api: object,
 *          onImageCreated: (imageId: string) => void, onRetry: () => void, onRecordAnother: () => void}} deps
 */
export function createJobProgress({ config, auth, api, onImageCreated, onRetry, onRecordAnother }) {
  const el = {
    progress: byId('progress-panel'),
    jobStatus: byId('job-status'),
    steps: [...byId('job-steps').querySelectorAll('li[data-step]')],
    channel: byId('job-channel'),
    jobError: byId('job-error'),
    retry: byId('retry-button'),
    result: byId('result'),
    resultHeading: byId('result-heading'),
    resultImage: byId('result-image'),
    resultTranscript: byId('result-transcript'),
    resultWeather: byId('result-weather'),
    another: byId('new-recording-button'),
  };

  let tracker = null;

  el.retry.addEventListener('click', () => onRetry());
  el.another.addEventListener('click', () => onRecordAnother());

  /** Opens the push socket (started early, so it is ready by the time the job is); null without one. */
  function connect() {
    return auth
      .idToken()
      .then((token) => JobSocket.open(config.webSocketUrl, token))
      .catch(() => null);
  }

  /** Follows the job until it ends; resolves with its last state (see trackJob). */
  async function follow(jobId, socket) {
    let pollErrorShown = false;
    const current = trackJob({
      api,
      socket,
      jobId,
      onUpdate: (job) => {
        if (pollErrorShown) clearError();
        pollErrorShown = false;
        renderJob(job);
      },
      onChannel: (channel) => {
        el.channel.dataset.channel = channel;
        setText(el.channel, channel === 'live' ? 'job.channel.live' : 'job.channel.polling');
      },
      onPollError: (error) => {
        // Offline or a blip: keep polling; the banner already says when we are offline.
        if (error?.code !== 'offline') {
          reportError(error);
          pollErrorShown = true;
        }
      },
    });
    tracker = current;
    const final = await current.finished;
    // A reset may already have stopped this job and a new send started following another.
    if (tracker === current) tracker = null;
    return final;
  }

  function renderJob(job) {
    const status = job.status;
    const seen = new Set((el.jobStatus.dataset.seen || '').split(' ').filter(Boolean));
    const changed = el.jobStatus.dataset.status !== status;
    seen.add(status);
    el.jobStatus.dataset.status = status;
    el.jobStatus.dataset.seen = [...seen].join(' ');
    setText(el.jobStatus, `job.status.${status}`);
    if (status !== 'failed') el.jobStatus.dataset.lastStep = status;
    const current = JOB_STEPS.indexOf(status === 'failed' ? el.jobStatus.dataset.lastStep || 'queued' : status);
    el.steps.forEach((li, index) => {
      let state = 'pending';
      if (index < current || status === 'done') state = 'done';
      else if (index === current) state = status === 'failed' ? 'failed' : 'active';
      li.dataset.state = state;
      if (state === 'active') li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
    if (changed) announce(`job.status.${status}`);
  }

  function resetSteps() {
    el.jobStatus.dataset.status = '';
    el.jobStatus.dataset.seen = '';
    el.jobStatus.dataset.lastStep = '';
    clearText(el.jobStatus);
    clearText(el.jobError);
    clearText(el.channel);
    el.channel.dataset.channel = '';
    el.steps.forEach((li) => {
      li.dataset.state = 'pending';
      li.removeAttribute('aria-current');
      setText(li, `job.status.${li.dataset.step}`);
    });
  }

  function hide() {
    el.progress.hidden = true;
    el.result.hidden = true;
    el.retry.hidden = true;
  }

  /** A send that failed before its job could finish (the upload, or the generate request). */
  function reportSendError(error) {
    // A spent quota or a used recording: trying again now would fail the same way, so the
    // reason stands next to the button instead of offering a retry.
    if (error?.code === 'quota_exceeded' || error?.code === 'recording_used') {
      reportError(error, el.jobError);
    } else {
      reportError(error);
      el.retry.hidden = false;
    }
  }

  /** A job that failed or timed out. */
  function showFailure(job) {
    el.retry.hidden = false;
    const { key, params } = failureMessage(job);
    // Announced once through the page's alert region, and repeated next to the steps.
    showError(key, params);
    setText(el.jobError, key, params);
  }

  /** A done job: its picture, its words and its weather (or why there is none). */
  async function showResult(job, { locationSent }) {
    let image = null;
    if (job.imageId) {
      try {
        image = await api.image(job.imageId);
      } catch (error) {
        reportError(error);
      }
      onImageCreated(job.imageId);
    }
    const transcript = image?.transcript ?? job.transcript ?? '';
    const facts = { weather: image?.weather ?? job.weather, location: image?.location ?? job.location };
    setPlainText(el.resultTranscript, transcript);
    setPlainText(el.resultWeather, weatherText(facts, { locationSent }));
    if (!facts.weather) markWeatherSkipped(facts.location || locationSent);
    const src = image?.imageUrl ?? image?.thumbnailUrl ?? '';
    el.resultImage.hidden = !src;
    if (src) {
      el.resultImage.src = src;
      el.resultImage.alt = transcript.slice(0, 140);
    }
    el.result.hidden = false;
    announce('result.ready');
    el.resultHeading.focus();
  }

  /** The weather step says what happened to it rather than a tick for a step not taken. */
  function markWeatherSkipped(hadLocation) {
    const step = el.steps.find((li) => li.dataset.step === 'weather');
    step.dataset.state = 'skipped';
    setText(step, hadLocation ? 'job.step.weatherUnavailable' : 'job.step.weatherSkipped');
  }

  return {
    connect,
    follow,
    renderJob,
    reportSendError,
    showFailure,
    showResult,
    /** A new send: the previous result and retry go, and the progress starts from nothing. */
    begin() {
      el.result.hidden = true;
      el.retry.hidden = true;
      el.progress.hidden = false;
      resetSteps();
    },
    showStarting() {
      setText(el.jobStatus, 'job.starting');
    },
    hide,
    /** Stops following the job and clears every trace of it ("record another", sign-out). */
    reset() {
      tracker?.stop();
      tracker = null;
      hide();
      resetSteps();
    },
  };
}

/** The message key and parameters for a failed or timed-out job. */
function failureMessage(job) {
  if (job.status !== 'failed') return { key: 'job.timeout', params: {} };
  // Mumble's own words for the reason, by its code; the job's English message is not shown.
  const failure = job.error ?? job.reason;
  const code = typeof failure === 'object' ? failure?.code : failure;
  const reasonKey = `job.reason.${code}`;
  if (code && has(reasonKey)) return { key: 'job.failed', params: { reason: t(reasonKey) } };
  return { key: 'job.failedNoReason', params: {} };
}
