// The Mumble HTTP API (`${apiUrl}/api/v1/...`) with the Cognito id token as bearer token, and the
// direct upload of a recording to its presigned S3 URL.

export class ApiError extends Error {
  /**
   * `status` 0 means the request never got an answer (`code` "offline" or "network");
   * `retryAfter` is the `Retry-After` header in seconds, when the answer had one.
   */
  constructor(status, code, detail = '', retryAfter = null) {
    super(`${status} ${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

export class UploadError extends Error {
  constructor(status) {
    super(status ? `upload answered HTTP ${status}` : 'upload connection failed');
    this.name = 'UploadError';
    this.status = status;
  }
}

/** Builds the API client; `auth` supplies (and refreshes) the id token. */
export function createApi(config, auth) {
  async function request(method, path, { body, headers = {}, retryUnauthorized = true } = {}) {
    if (!navigator.onLine) throw new ApiError(0, 'offline');
    const token = await auth.idToken();
    const init = {
      method,
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...headers },
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${config.apiUrl}/api/v1${path}`, init);
    } catch {
      throw new ApiError(0, navigator.onLine ? 'network' : 'offline');
    }
    if (response.status === 401 && retryUnauthorized) {
      // The token may have been revoked or expired early: refresh once, then give up.
      await auth.refresh();
      return request(method, path, { body, headers, retryUnauthorized: false });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data && typeof data.error === 'object' ? data.error : {};
      const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
      throw new ApiError(
        response.status,
        error.code || `http_${response.status}`,
        error.message || '',
        Number.isFinite(retryAfter) ? retryAfter : null,
      );
    }
    return data;
  }

  const id = (value) => encodeURIComponent(value);

  return {
    health: () => request('GET', '/health'),
    uploadUrl: (contentType, contentLength) =>
      request('POST', '/audio/upload-url', { body: { contentType, contentLength } }),
    generate: (job, idempotencyKey) =>
      request('POST', '/generate', { body: job, headers: { 'Idempotency-Key': idempotencyKey } }),
    job: (jobId) => request('GET', `/jobs/${id(jobId)}`),
    images: (cursor, limit = 24) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cursor) query.set('cursor', cursor);
      return request('GET', `/images?${query}`);
    },
    image: (imageId) => request('GET', `/images/${id(imageId)}`),
    deleteImage: (imageId) => request('DELETE', `/images/${id(imageId)}`),
    me: () => request('GET', '/me'),
    saveMe: (profile) => request('PUT', '/me', { body: profile }),
  };
}

// The browser sets these itself; XMLHttpRequest refuses to.
const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection', 'expect']);

/**
 * PUTs `blob` to a presigned S3 URL. XMLHttpRequest rather than fetch, because only it reports
 * upload progress. The Content-Type must equal the one the URL was signed for.
 */
export function uploadToPresignedUrl({ uploadUrl, headers }, blob, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', uploadUrl);
    let contentTypeSet = false;
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) continue;
      if (name.toLowerCase() === 'content-type') contentTypeSet = true;
      xhr.setRequestHeader(name, String(value));
    }
    if (!contentTypeSet) xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new UploadError(xhr.status));
      }
    });
    xhr.addEventListener('error', () => reject(new UploadError(0)));
    xhr.addEventListener('abort', () => reject(new UploadError(0)));
    xhr.addEventListener('timeout', () => reject(new UploadError(0)));
    xhr.timeout = 120_000;
    xhr.send(blob);
  });
}
