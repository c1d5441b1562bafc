// The record view: wires its parts together and owns the send, from a take to its finished picture.

import { createRecording, newIdempotencyKey } from './recording.js';
import { createLocationToggle } from './location.js';
import { createUpload } from './upload.js';
import { createJobProgress } from './job-progress.js';
import { byId, showError, clearError } from './ui.js';

/**
 * @param {{config: object, auth: import('./auth.js').Auth, api: object,
 *          language: () => string, onImageCreated: (imageId: string) => void}} deps
 */
export function createRecordView({ config, auth, api, language, onImageCreated }) {
  const el = {
    send: byId('send-button'),
    offlineWords: byId('offline-words'),
    offlineTranscript: byId('offline-transcript'),
  };

  let sending = false;
  let locationSent = false; // whether the job in progress was given a location
  // Bumped by a reset (sign-out, "record another"): a send still in flight then stops quietly.
  let runId = 0;

  const recording = createRecording({ onStart: () => jobProgress.hide(), onChange: render });
  const locationToggle = createLocationToggle();
  const upload = createUpload({ api });
  const jobProgress = createJobProgress({
    config,
    auth,
    api,
    onImageCreated,
    onRetry: () => send(),
    onRecordAnother: () => {
      resetAll();
      recording.focus();
    },
  });

  // With the offline providers (config.json `providers: "offline"`, local development) nothing
  // can listen to the recording: the user types its words, sent along as `transcript`.
  const offlineProviders = config.providers === 'offline';
  el.offlineWords.hidden = !offlineProviders;
  render();

  el.send.addEventListener('click', () => send());
  window.addEventListener('mumble:lang', () => render());

  async function send() {
    const take = recording.take;
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
    jobProgress.begin();
    upload.hide();
    render();
    const socketReady = jobProgress.connect();
    let final = null;
    try {
      final = await startAndFollow(take, words, socketReady, cancelled);
    } catch (error) {
      if (!cancelled()) jobProgress.reportSendError(error);
    } finally {
      socketReady.then((socket) => socket?.close());
      if (!cancelled()) sending = false;
    }
    if (cancelled()) return;
    if (final && final.status !== 'cancelled') await finishJob(final, take);
    render();
  }

  /** Uploads the take (once, across retries), starts its job and follows it; null when a reset overtook it. */
  async function startAndFollow(take, words, socketReady, cancelled) {
    if (!take.audioKey) {
      const audioKey = await upload.upload(take, cancelled);
      if (cancelled()) return null;
      take.audioKey = audioKey;
      // Uploaded: from here on the job's steps say what is happening.
      upload.hide();
    }
    jobProgress.showStarting();
    const request = { audioKey: take.audioKey, language: language() };
    if (offlineProviders) request.transcript = words;
    locationSent = false;
    if (locationToggle.wanted) {
      const position = await locationToggle.locate();
      if (position) {
        request.latitude = position.latitude;
        request.longitude = position.longitude;
        locationSent = true;
      }
    }
    if (cancelled()) return null;
    const started = await api.generate(request, take.idempotencyKey);
    const jobId = started?.jobId ?? started?.id;
    // The answer says where the job stands (queued, or further along for a retried request);
    // the pushes and polls that follow only report changes from there.
    jobProgress.renderJob({ jobId, status: started?.status ?? 'queued' });
    const socket = await socketReady;
    if (cancelled()) return null;
    return jobProgress.follow(jobId, socket);
  }

  async function finishJob(job, take) {
    if (job.status === 'done') {
      await jobProgress.showResult(job, { locationSent });
      // The recording is used up: what is left to do is record another (or open the gallery).
      recording.useUp();
      el.offlineTranscript.value = '';
      return;
    }
    // A failed job keeps its idempotency key's answer on the server: a retry must be a new request.
    take.idempotencyKey = newIdempotencyKey();
    jobProgress.showFailure(job);
  }

  function render() {
    recording.render({ sending });
    locationToggle.render({ sending });
    el.send.disabled = !recording.take || recording.active || sending;
    el.offlineTranscript.disabled = sending;
  }

  function resetAll() {
    runId += 1;
    sending = false;
    recording.reset();
    jobProgress.reset();
    upload.hide();
    el.offlineTranscript.value = '';
    clearError();
    render();
  }

  return {
    show() {},
    /** Sign-out: stop the microphone and forget everything of the previous user. */
    reset() {
      resetAll();
      locationToggle.forget();
    },
  };
}
