// The record button (mouse or keyboard), its level meter and clock, and the take to review before sending.

import { Recorder, RecorderError, MAX_SECONDS, baseMimeType } from './recorder.js';
import { byId, setText, clearText, announce, showError, clearError, reportError, formatDuration } from './ui.js';

/** What the page says for each way the microphone can fail; anything else is `mic.failed`. */
const MIC_ERROR_KEYS = {
  denied: 'mic.denied',
  'no-device': 'mic.noDevice',
  busy: 'mic.busy',
  unsupported: 'mic.unsupported',
  insecure: 'mic.insecure',
  empty: 'mic.empty',
};

/** A random UUID (v4): the name of one generate request, so a repeated send is not a second picture. */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `onStart` runs as a new recording begins (the previous job's panels go away); `onChange` asks
 * the view to render again, since the send button depends on the take too.
 * A take is {blob, contentType, durationSeconds, url, idempotencyKey, audioKey}; sending sets `audioKey`.
 * @param {{onStart: () => void, onChange: () => void}} hooks
 */
export function createRecording({ onStart, onChange }) {
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
  };

  let recorder = null;
  let recorderState = 'idle'; // idle | starting | recording
  let take = null;
  let meterLevel = 0;

  const meter = createMeter(el.meter);
  showReadyHint();
  renderElapsed(0);

  el.recordButton.addEventListener('click', () => {
    if (recorderState === 'recording') stopRecording();
    else if (recorderState === 'idle') startRecording();
  });
  el.discard.addEventListener('click', () => {
    dropTake();
    showReadyHint();
    onChange();
    el.recordButton.focus();
  });

  async function startRecording() {
    clearError();
    dropTake();
    onStart();
    recorderState = 'starting';
    onChange();
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
    const current = recorder;
    try {
      await current.start();
    } catch (error) {
      // A reset while the browser asked for the microphone cancelled this recorder: nothing to say.
      if (recorder !== current) return;
      recorder = null;
      recorderState = 'idle';
      onChange();
      showRecorderError(error);
      return;
    }
    if (recorder !== current) {
      current.cancel();
      return;
    }
    recorderState = 'recording';
    renderElapsed(0);
    setText(el.hint, 'record.hint.recording');
    announce('record.started');
    onChange();
  }

  function stopRecording() {
    finishRecording(false);
  }

  async function finishRecording(byLimit) {
    if (!recorder || recorderState !== 'recording') return;
    const current = recorder;
    recorderState = 'idle';
    recorder = null;
    onChange();
    try {
      keepTake(await current.stop(), byLimit);
    } catch (error) {
      showRecorderError(error);
    }
    onChange();
    // Focus stays on the record button (a keyboard user started and stopped it there); the hint
    // and the live region say what comes next.
  }

  function keepTake({ blob, mimeType, durationSeconds }, byLimit) {
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
  }

  function showRecorderError(error) {
    if (error instanceof RecorderError) {
      showError(MIC_ERROR_KEYS[error.code] ?? 'mic.failed', { detail: error.detail });
    } else {
      reportError(error);
    }
  }

  function showReadyHint() {
    setText(el.hint, 'record.hint.ready');
  }

  function renderElapsed(seconds) {
    el.elapsed.textContent = `${formatDuration(seconds)} / ${formatDuration(MAX_SECONDS)}`;
  }

  /** `sending`: the take is on its way, so neither it nor the microphone may change. */
  function render({ sending }) {
    const recording = recorderState === 'recording';
    el.recordButton.dataset.state = recorderState;
    setText(el.recordLabel, recording ? 'record.stop' : recorderState === 'starting' ? 'record.starting' : 'record.start');
    // Never disabled while starting: a disabled button drops the keyboard focus to the page, and
    // the next Space or Enter would no longer reach it to stop the recording.
    el.recordButton.disabled = sending;
    el.recordButton.setAttribute('aria-disabled', String(recorderState === 'starting'));
    el.review.hidden = !take || recording;
    el.discard.disabled = sending;
    if (!recording) meter.draw(0);
  }

  function dropTake() {
    if (take?.url) URL.revokeObjectURL(take.url);
    take = null;
    el.playback.removeAttribute('src');
    el.playback.load();
    clearText(el.playbackLength);
    renderElapsed(0);
  }

  return {
    /** The take waiting to be sent, or null. */
    get take() {
      return take;
    },
    get active() {
      return recorderState === 'recording';
    },
    render,
    focus: () => el.recordButton.focus(),
    /** The take became a picture: what is left to do is record another. */
    useUp() {
      dropTake();
      showReadyHint();
    },
    /** Stops the microphone and forgets the take ("record another", sign-out). */
    reset() {
      recorder?.cancel();
      recorder = null;
      recorderState = 'idle';
      dropTake();
      showReadyHint();
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
