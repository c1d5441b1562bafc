// The upload of a take's audio to its presigned S3 URL, and its progress bar.

import { uploadToPresignedUrl } from './api.js';
import { byId } from './ui.js';

export function createUpload({ api }) {
  const el = {
    uploadRow: byId('upload-row'),
    uploadProgress: byId('upload-progress'),
    uploadPercent: byId('upload-percent'),
  };

  function renderUpload(fraction) {
    const percent = Math.round(fraction * 100);
    el.uploadProgress.value = percent;
    el.uploadPercent.textContent = `${percent}%`;
  }

  return {
    /** Resolves with the key the API knows the audio by; null when `cancelled()` turned true meanwhile. */
    async upload(take, cancelled) {
      el.uploadRow.hidden = false;
      renderUpload(0);
      const target = await api.uploadUrl(take.contentType, take.blob.size);
      // A reset while the URL was on its way took the recording with it: nothing is left to upload.
      if (cancelled()) return null;
      await uploadToPresignedUrl(target, take.blob, take.contentType, renderUpload);
      return target.audioKey;
    },
    hide() {
      el.uploadRow.hidden = true;
    },
  };
}
