// Microphone recording with MediaRecorder: a level reading for the meter, elapsed time, and a
// hard stop at the maximum length.

export const MAX_SECONDS = 60;

// Opus in WebM first (Chrome, Firefox, Edge), then Ogg, then MP4 (Safari).
const MIME_CANDIDATES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/ogg', 'audio/mp4'];

export class RecorderError extends Error {
  /** `code`: unsupported | insecure | denied | no-device | busy | empty | failed | cancelled */
  constructor(code, detail = '') {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'RecorderError';
    this.code = code;
    this.detail = detail;
  }
}

/** The best recording format this browser supports, or '' to let MediaRecorder choose. */
export function pickMimeType() {
  if (typeof MediaRecorder === 'undefined' || typeof MediaRecorder.isTypeSupported !== 'function') return '';
  return MIME_CANDIDATES.find((type) => MediaRecorder.isTypeSupported(type)) ?? '';
}

/** The bare media type the API and S3 see ("audio/webm;codecs=opus" → "audio/webm"). */
export function baseMimeType(type) {
  const base = String(type || '').split(';')[0].trim().toLowerCase();
  return base || 'audio/webm';
}

function mediaError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return new RecorderError('denied');
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return new RecorderError('no-device');
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError':
      return new RecorderError('busy');
    default:
      return new RecorderError('failed', error?.message ?? String(error));
  }
}

export class Recorder {
  #onLevel;
  #onTick;
  #onLimit;
  #stream = null;
  #mediaRecorder = null;
  #audioContext = null;
  #frame = 0;
  #ticker = 0;
  #startedAt = 0;
  #chunks = [];
  #stopped = null;
  #cancelled = false;

  /**
   * @param {{onLevel?: (level: number) => void, onTick?: (seconds: number) => void, onLimit?: () => void}} hooks
   *   `onLevel` gets 0..1 about 60 times a second, `onTick` the elapsed seconds, `onLimit` fires
   *   when the maximum length stopped the recording.
   */
  constructor({ onLevel = () => {}, onTick = () => {}, onLimit = () => {} } = {}) {
    this.#onLevel = onLevel;
    this.#onTick = onTick;
    this.#onLimit = onLimit;
  }

  get recording() {
    return this.#mediaRecorder?.state === 'recording';
  }

  async start() {
    if (!window.isSecureContext) throw new RecorderError('insecure');
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      throw new RecorderError('unsupported');
    }
    try {
      this.#stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      throw mediaError(error);
    }
    // Cancelled while the browser asked for the microphone (the person signed out meanwhile):
    // let go of it at once rather than record for a page that no longer wants it.
    if (this.#cancelled) {
      this.#release();
      throw new RecorderError('cancelled');
    }
    const mimeType = pickMimeType();
    try {
      this.#mediaRecorder = new MediaRecorder(this.#stream, mimeType ? { mimeType } : undefined);
    } catch (error) {
      this.#release();
      throw new RecorderError('failed', error?.message ?? String(error));
    }
    this.#chunks = [];
    this.#mediaRecorder.addEventListener('dataavailable', (event) => {
      if (event.data && event.data.size > 0) this.#chunks.push(event.data);
    });
    this.#stopped = new Promise((resolve, reject) => {
      this.#mediaRecorder.addEventListener('stop', () => {
        const type = this.#mediaRecorder.mimeType || mimeType || 'audio/webm';
        const durationSeconds = (performance.now() - this.#startedAt) / 1000;
        this.#release();
        const blob = new Blob(this.#chunks, { type });
        if (blob.size === 0) reject(new RecorderError('empty'));
        else resolve({ blob, mimeType: type, durationSeconds: Math.min(durationSeconds, MAX_SECONDS) });
      });
      this.#mediaRecorder.addEventListener('error', (event) => {
        this.#release();
        reject(new RecorderError('failed', event.error?.message ?? 'recorder error'));
      });
    });
    // Timeslices keep memory flat and make sure data arrives even if stop races the first chunk.
    this.#mediaRecorder.start(250);
    this.#startedAt = performance.now();
    this.#startMeter();
    this.#ticker = window.setInterval(() => {
      const seconds = (performance.now() - this.#startedAt) / 1000;
      this.#onTick(Math.min(seconds, MAX_SECONDS));
      if (seconds >= MAX_SECONDS && this.recording) {
        this.#mediaRecorder.stop();
        this.#onLimit();
      }
    }, 200);
  }

  /** Stops recording; resolves with {blob, mimeType, durationSeconds}. */
  stop() {
    if (this.recording) this.#mediaRecorder.stop();
    return this.#stopped ?? Promise.reject(new RecorderError('failed', 'not recording'));
  }

  /** Stops and throws the recording away (leaving the page, signing out). */
  cancel() {
    this.#cancelled = true;
    if (this.recording) {
      this.#stopped?.catch(() => {});
      this.#mediaRecorder.stop();
    } else {
      this.#release();
    }
  }

  #startMeter() {
    const AudioContextClass = window.AudioContext ?? window.webkitAudioContext;
    if (!AudioContextClass) return;
    try {
      this.#audioContext = new AudioContextClass();
      const source = this.#audioContext.createMediaStreamSource(this.#stream);
      const analyser = this.#audioContext.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const draw = () => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const sample of samples) sum += sample * sample;
        const rms = Math.sqrt(sum / samples.length);
        // Speech RMS sits around 0.01–0.3; a square root spreads that over the meter.
        this.#onLevel(Math.min(1, Math.sqrt(rms) * 1.6));
        this.#frame = requestAnimationFrame(draw);
      };
      draw();
    } catch {
      // The meter is a nicety; recording works without it.
    }
  }

  #release() {
    cancelAnimationFrame(this.#frame);
    window.clearInterval(this.#ticker);
    this.#stream?.getTracks().forEach((track) => track.stop());
    this.#stream = null;
    if (this.#audioContext && this.#audioContext.state !== 'closed') this.#audioContext.close().catch(() => {});
    this.#audioContext = null;
    this.#onLevel(0);
  }
}
