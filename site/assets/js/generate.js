// The record view: record with a level meter, listen, then upload, start generation, follow the
// job's progress and show the finished picture.

import { Recorder, RecorderError, MAX_SECONDS, baseMimeType } from './recorder.js';
import { uploadToPresignedUrl } from './api.js';
import { JobSocket, JOB_STEPS, trackJob } from './jobs.js';
import {
  byId,
  setText,
  setPlainText,
  clearText,
  announce,
  showError,
  clearError,
  reportError,
  formatDuration,
} from './ui.js';
import { has, t } from './i18n.js';
import { weatherText } from './describe.js';
import { storage } from './storage.js';

const LOCATION_PREF_KEY = 'mumble.useLocation';
const LOCATION_MAX_AGE_MS = 10 * 60 * 1000;
/** About 100 m: plenty for the weather, and no more precise than it needs to be. */
const COORDINATE_DECIMALS = 3;

export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * @param {{config: object, auth: import('./auth.js').Auth, api: object,
 *          language: () => string, onImageCreated: (imageId: string) => void}} deps
 */
export function createRecordView({ config, auth, api, language, onImageCreated }) {
  const el = {
    recordButton: byId('record-button'),
    recordLabel: byId('record-button-label'),
    meter: byId('level-meter'),
    elapsed: byId('record-elapsed'),
    hint: byId('record-hint'),
    review: byId('review'),
    playback: byId('playback'),
    playbackLength: byId('playback-length'),
    discard: byId('discard-button'),
    useLocation: byId('use-location'),
    locationStatus: byId('location-status'),
    send: byId('send-button'),
    offlineWords: byId('offline-words'),
    offlineTranscript: byId('offline-transcript'),
    progress: byId('progress-panel'),
    uploadRow: byId('upload-row'),
    uploadProgress: byId('upload-progress'),
    uploadPercent: byId('upload-percent'),
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

  let recorder = null;
  let recorderState = 'idle'; // idle | starting | recording
  let take = null; // {blob, contentType, durationSeconds, url, idempotencyKey, audioKey?}
  let sending = false;
  let tracker = null;
  let socket = null;
  let coords = null; // {latitude, longitude, at}
  let meterLevel = 0;
  let locationSent = false; // whether the job in progress was given a location
  // Bumped by a reset (sign-out, "record another"): a send still in flight then stops quietly.
  let runId = 0;

  const meter = createMeter(el.meter);
  // With the offline providers (config.json `providers: "offline"`, local development) nothing
  // can listen to the recording: the user types its words, sent along as `transcript`.
  const offlineProviders = config.providers === 'offline';
  el.offlineWords.hidden = !offlineProviders;

  el.useLocation.checked = storage.get(LOCATION_PREF_KEY) === 'yes';
  setText(el.hint, 'record.hint.ready');
  renderElapsed(0);
  render();

  el.recordButton.addEventListener('click', () => {
    if (recorderState === 'recording') stopRecording();
    else if (recorderState === 'idle') startRecording();
  });
  el.discard.addEventListener('click', () => {
    dropTake();
    setText(el.hint, 'record.hint.ready');
    render();
    el.recordButton.focus();
  });
  el.send.addEventListener('click', () => send());
  el.retry.addEventListener('click', () => send());
  el.another.addEventListener('click', () => {
    resetAll();
    el.recordButton.focus();
  });
  el.useLocation.addEventListener('change', () => {
    storage.set(LOCATION_PREF_KEY, el.useLocation.checked ? 'yes' : 'no');
    if (el.useLocation.checked) locate();
    else {
      coords = null;
      setLocationStatus('off', 'record.locationHint');
    }
  });
  window.addEventListener('mumble:lang', () => render());

  async function startRecording() {
    clearError();
    dropTake();
    hideJob();
    recorderState = 'starting';
    render();
    recorder = new Recorder({
      onLevel: (level) => {
        meterLevel = Math.max(level, meterLevel * 0.85);
        meter.draw(meterLevel);
      },
      onTick: renderElapsed,
      onLimit: () => {
        setText(el.hint, 'record.hint.maxReached');
        finishRecording(true);
      },
    });
    try {
      await recorder.start();
    } catch (error) {
      recorder = null;
      recorderState = 'idle';
      render();
      showRecorderError(error);
      return;
    }
    recorderState = 'recording';
    renderElapsed(0);
    setText(el.hint, 'record.hint.recording');
    announce('record.started');
    render();
  }

  function stopRecording() {
    finishRecording(false);
  }

  async function finishRecording(byLimit) {
    if (!recorder || recorderState !== 'recording') return;
    const current = recorder;
    recorderState = 'idle';
    recorder = null;
    render();
    try {
      const { blob, mimeType, durationSeconds } = await current.stop();
      const contentType = baseMimeType(mimeType);
      // The blob's type must be exactly the type the upload URL is signed for.
      const typed = blob.type === contentType ? blob : new Blob([blob], { type: contentType });
      take = {
        blob: typed,
        contentType,
        durationSeconds,
        url: URL.createObjectURL(typed),
        idempotencyKey: newIdempotencyKey(),
        audioKey: null,
      };
      el.playback.src = take.url;
      // The player shows 0:00 until played (a recorded blob has no length in its header): say it.
      setText(el.playbackLength, 'record.length', { duration: formatDuration(durationSeconds) });
      renderElapsed(durationSeconds);
      if (!byLimit) setText(el.hint, 'record.hint.recorded', { duration: formatDuration(durationSeconds) });
      announce('record.stopped');
    } catch (error) {
      showRecorderError(error);
    }
    render();
    // Focus stays on the record button (a keyboard user started and stopped it there); the hint
    // and the live region say what comes next.
  }

  function showRecorderError(error) {
    if (error instanceof RecorderError) {
      const keys = {
        denied: 'mic.denied',
        'no-device': 'mic.noDevice',
        busy: 'mic.busy',
        unsupported: 'mic.unsupported',
        insecure: 'mic.insecure',
        empty: 'mic.empty',
      };
      showError(keys[error.code] ?? 'mic.failed', { detail: error.detail });
    } else {
      reportError(error);
    }
  }

  function setLocationStatus(state, key) {
    el.locationStatus.dataset.state = state;
    setText(el.locationStatus, key);
  }

  async function locate() {
    if (!('geolocation' in navigator)) {
      setLocationStatus('unsupported', 'location.unsupported');
      return null;
    }
    if (coords && Date.now() - coords.at < LOCATION_MAX_AGE_MS) return coords;
    setLocationStatus('asking', 'location.asking');
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const round = (value) => Number(value.toFixed(COORDINATE_DECIMALS));
          coords = {
            latitude: round(position.coords.latitude),
            longitude: round(position.coords.longitude),
            at: Date.now(),
          };
          setLocationStatus('ready', 'location.ready');
          resolve(coords);
        },
        (error) => {
          coords = null;
          if (error.code === error.PERMISSION_DENIED) setLocationStatus('denied', 'location.denied');
          else setLocationStatus('unavailable', 'location.unavailable');
          resolve(null);
        },
        { enableHighAccuracy: false, timeout: 10_000, maximumAge: LOCATION_MAX_AGE_MS },
      );
    });
  }

  async function send() {
    if (!take || sending) return;
    if (!navigator.onLine) {
      showError('error.offline');
      return;
    }
    const words = el.offlineTranscript.value.trim();
    if (offlineProviders && !words) {
      showError('record.offlineWordsMissing');
      el.offlineTranscript.focus();
      return;
    }
    sending = true;
    const myRun = runId;
    const cancelled = () => myRun !== runId;
    clearError();
    el.result.hidden = true;
    el.retry.hidden = true;
    el.progress.hidden = false;
    resetSteps();
    render();
    const socketReady = auth
      .idToken()
      .then((token) => JobSocket.open(config.webSocketUrl, token))
      .catch(() => null);
    let final = null;
    let pollErrorShown = false;
    try {
      if (!take.audioKey) {
        el.uploadRow.hidden = false;
        renderUpload(0);
        const target = await api.uploadUrl(take.contentType, take.blob.size);
        await uploadToPresignedUrl(target, take.blob, take.contentType, renderUpload);
        if (cancelled()) return;
        take.audioKey = target.audioKey;
      }
      setText(el.jobStatus, 'job.starting');
      const request = { audioKey: take.audioKey, language: language() };
      if (offlineProviders) request.transcript = words;
      locationSent = false;
      if (el.useLocation.checked) {
        const position = await locate();
        if (position) {
          request.latitude = position.latitude;
          request.longitude = position.longitude;
          locationSent = true;
        }
      }
      if (cancelled()) return;
      const started = await api.generate(request, take.idempotencyKey);
      const jobId = started?.jobId ?? started?.id;
      // The answer says where the job stands (queued, or further along for a retried request);
      // the pushes and polls that follow only report changes from there.
      renderJob({ jobId, status: started?.status ?? 'queued' });
      socket = await socketReady;
      if (cancelled()) return;
      tracker = trackJob({
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
      final = await tracker.finished;
    } catch (error) {
      if (!cancelled()) {
        // A spent quota or a used recording: trying again now would fail the same way, so the
        // reason stands next to the button instead of offering a retry.
        if (error?.code === 'quota_exceeded' || error?.code === 'recording_used') {
          reportError(error, el.jobError);
        } else {
          reportError(error);
          el.retry.hidden = false;
        }
      }
    } finally {
      socketReady.then((s) => s?.close());
      if (!cancelled()) {
        socket = null;
        tracker = null;
        sending = false;
      }
    }
    if (cancelled()) return;
    if (final && final.status !== 'cancelled') await finishJob(final);
    render();
  }

  async function finishJob(job) {
    if (job.status === 'done') {
      await showResult(job);
      return;
    }
    // A failed job keeps its idempotency key's answer on the server: a retry must be a new request.
    take.idempotencyKey = newIdempotencyKey();
    el.retry.hidden = false;
    let key = 'job.timeout';
    let params = {};
    if (job.status === 'failed') {
      // Mumble's own words for the reason, by its code; the job's English message is not shown.
      const failure = job.error ?? job.reason;
      const code = typeof failure === 'object' ? failure?.code : failure;
      const reasonKey = `job.reason.${code}`;
      key = code && has(reasonKey) ? 'job.failed' : 'job.failedNoReason';
      params = key === 'job.failed' ? { reason: t(reasonKey) } : {};
    }
    // Announced once through the page's alert region, and repeated next to the steps.
    showError(key, params);
    setText(el.jobError, key, params);
  }

  async function showResult(job) {
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
    // The weather step says what happened to it rather than a tick for a step not taken.
    if (!facts.weather) {
      const step = el.steps.find((li) => li.dataset.step === 'weather');
      step.dataset.state = 'skipped';
      setText(step, facts.location || locationSent ? 'job.step.weatherUnavailable' : 'job.step.weatherSkipped');
    }
    // The recording is used up: what is left to do is record another (or open the gallery).
    dropTake();
    el.offlineTranscript.value = '';
    setText(el.hint, 'record.hint.ready');
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
    el.uploadRow.hidden = true;
  }

  function renderUpload(fraction) {
    const percent = Math.round(fraction * 100);
    el.uploadProgress.value = percent;
    el.uploadPercent.textContent = `${percent}%`;
  }

  function renderElapsed(seconds) {
    el.elapsed.textContent = `${formatDuration(seconds)} / ${formatDuration(MAX_SECONDS)}`;
  }

  function render() {
    const recording = recorderState === 'recording';
    el.recordButton.dataset.state = recorderState;
    setText(el.recordLabel, recording ? 'record.stop' : recorderState === 'starting' ? 'record.starting' : 'record.start');
    // Never disabled while starting: a disabled button drops the keyboard focus to the page, and
    // the next Space or Enter would no longer reach it to stop the recording.
    el.recordButton.disabled = sending;
    el.recordButton.setAttribute('aria-disabled', String(recorderState === 'starting'));
    el.review.hidden = !take || recording;
    el.discard.disabled = sending;
    el.send.disabled = !take || recording || sending;
    el.useLocation.disabled = sending;
    el.offlineTranscript.disabled = sending;
    if (!recording) meter.draw(0);
  }

  function hideJob() {
    el.progress.hidden = true;
    el.result.hidden = true;
    el.retry.hidden = true;
  }

  function dropTake() {
    if (take?.url) URL.revokeObjectURL(take.url);
    take = null;
    el.playback.removeAttribute('src');
    el.playback.load();
    clearText(el.playbackLength);
    renderElapsed(0);
  }

  function resetAll() {
    runId += 1;
    sending = false;
    socket = null;
    recorder?.cancel();
    recorder = null;
    recorderState = 'idle';
    tracker?.stop();
    tracker = null;
    dropTake();
    el.offlineTranscript.value = '';
    hideJob();
    resetSteps();
    clearError();
    setText(el.hint, 'record.hint.ready');
    render();
  }

  return {
    show() {},
    /** Sign-out: stop the microphone and forget everything of the previous user. */
    reset() {
      resetAll();
      coords = null;
    },
  };
}

/** Draws the input level on the canvas, using the page's colours, sharp on high-DPI screens. */
function createMeter(canvas) {
  const context = canvas.getContext('2d');
  let colours = null;
  function sizeCanvas() {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    if (width === 0) return false;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const style = getComputedStyle(canvas);
    colours = { fill: style.getPropertyValue('--meter-fill').trim() || '#2f6fde', track: style.getPropertyValue('--meter-track').trim() || '#dde3ec' };
    return true;
  }
  window.addEventListener('resize', () => {
    colours = null;
  });
  return {
    draw(level) {
      if (!context) return;
      if (!colours && !sizeCanvas()) return;
      const { width, height } = canvas;
      context.clearRect(0, 0, width, height);
      context.fillStyle = colours.track;
      context.fillRect(0, 0, width, height);
      context.fillStyle = colours.fill;
      context.fillRect(0, 0, Math.round(width * Math.max(0, Math.min(1, level))), height);
    },
  };
}
