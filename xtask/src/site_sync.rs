//! Syncs the static site to its bucket by content: upload what changed, delete what is gone.
//!
//! A file is unchanged when its MD5 equals the object's ETag. We upload with single-part
//! `PutObject`, whose ETag is the MD5 of the body (the site bucket uses SSE-S3, which keeps that
//! true). An object uploaded by another tool with multipart has an ETag `md5-of-part-md5s-N`:
//! it is recomputed with the part size the AWS CLI and SDKs use by default (8 MiB) and counts as
//! changed when that does not match, so one upload turns it into a plain ETag again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use serde::Serialize;

use crate::ui;

/// How many uploads run at once: enough to hide latency, few enough to stay under S3's limits
/// and a small uplink.
const PARALLEL_UPLOADS: usize = 16;
/// The AWS CLI's and SDKs' default multipart part size.
const MULTIPART_PART_SIZE: usize = 8 * 1024 * 1024;

/// One file of the site as it will be in the bucket.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// The object key, with `/` separators: `assets/js/app.js`.
    pub key: String,
    pub body: Arc<Vec<u8>>,
}

/// What a sync does: the keys to upload and to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SitePlan {
    pub upload: Vec<String>,
    pub delete: Vec<String>,
    pub unchanged: usize,
}

impl SitePlan {
    pub fn is_empty(&self) -> bool {
        self.upload.is_empty() && self.delete.is_empty()
    }
}

/// Every file under `dir` (hidden files and folders skipped), plus `extra` generated files that
/// replace a file of the same key.
pub fn local_files(dir: &Path, extra: Vec<SiteFile>) -> Result<Vec<SiteFile>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read the site folder {}", folder.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path: PathBuf = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).expect("walked from dir");
            let key = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let body =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            files.insert(
                key.clone(),
                SiteFile {
                    key,
                    body: Arc::new(body),
                },
            );
        }
    }
    for file in extra {
        files.insert(file.key.clone(), file);
    }
    Ok(files.into_values().collect())
}

/// The objects in the bucket: key → ETag (without quotes).
pub async fn remote_etags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<BTreeMap<String, String>> {
    let pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    let objects: Vec<_> = pages
        .try_collect()
        .await
        .with_context(|| format!("cannot list the site bucket {bucket}"))?;
    Ok(objects
        .into_iter()
        .flat_map(|page| page.contents.unwrap_or_default())
        .filter_map(|object| {
            let key = object.key?;
            let etag = object
                .e_tag
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned();
            Some((key, etag))
        })
        .collect())
}

/// Compares local files with the bucket's ETags.
pub fn plan(files: &[SiteFile], remote: &BTreeMap<String, String>) -> SitePlan {
    let mut plan = SitePlan::default();
    for file in files {
        match remote.get(&file.key) {
            Some(etag) if etag_matches(&file.body, etag) => plan.unchanged += 1,
            _ => plan.upload.push(file.key.clone()),
        }
    }
    let local: BTreeSet<&str> = files.iter().map(|file| file.key.as_str()).collect();
    plan.delete = remote
        .keys()
        .filter(|key| !local.contains(key.as_str()))
        .cloned()
        .collect();
    plan
}

/// Whether `body` is what an object with this ETag holds (see the module comment).
pub fn etag_matches(body: &[u8], etag: &str) -> bool {
    let etag = etag.trim_matches('"').to_ascii_lowercase();
    match etag.split_once('-') {
        None => hex::encode(Md5::digest(body)) == etag,
        Some((digest, parts)) => {
            let Ok(parts) = parts.parse::<usize>() else {
                return false;
            };
            let chunks: Vec<&[u8]> = body.chunks(MULTIPART_PART_SIZE).collect();
            if chunks.len() != parts {
                return false;
            }
            let mut outer = Md5::new();
            for chunk in chunks {
                outer.update(Md5::digest(chunk));
            }
            hex::encode(outer.finalize()) == digest
        }
    }
}

/// `Content-Type`, with `charset=utf-8` for text so browsers never guess.
pub fn content_type(key: &str) -> String {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            mime.essence_str(),
            "application/javascript" | "application/json" | "application/xml" | "image/svg+xml"
        );
    if textual {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

/// `Cache-Control`: HTML and the runtime config are revalidated on every load (they name
/// everything else); fingerprinted assets never change under their name, so they are cached for
/// a year; anything else for five minutes, short enough that a deploy shows up soon.
pub fn cache_control(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    if name.ends_with(".html") || name.ends_with(".htm") || key == "config.json" {
        "no-cache"
    } else if is_fingerprinted(name) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    }
}

/// A file name with a content hash in it: `app.3f9a2b1c.js`, `index-BQz3k9a1.css`.
/// A hash part is at least 8 letters and digits with at least one of each.
pub fn is_fingerprinted(name: &str) -> bool {
    let stem = name
        .rsplit_once('.')
        .map_or(name, |(stem, _extension)| stem);
    stem.split(['.', '-', '_']).skip(1).any(|part| {
        part.len() >= 8
            && part.chars().all(|c| c.is_ascii_alphanumeric())
            && part.chars().any(|c| c.is_ascii_digit())
            && part.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// Uploads and deletes what `plan` says, at most `PARALLEL_UPLOADS` at a time, with progress.
pub async fn apply(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    files: &[SiteFile],
    plan: &SitePlan,
) -> Result<()> {
    let by_key: BTreeMap<&str, &SiteFile> =
        files.iter().map(|file| (file.key.as_str(), file)).collect();
    if !plan.upload.is_empty() {
        let bar = ui::progress(plan.upload.len() as u64, "uploading site files");
        futures::stream::iter(plan.upload.iter())
            .map(|key| {
                let file = by_key[key.as_str()];
                let bar = bar.clone();
                async move {
                    s3.put_object()
                        .bucket(bucket)
                        .key(&file.key)
                        .body(ByteStream::from(file.body.as_ref().clone()))
                        .content_type(content_type(&file.key))
                        .cache_control(cache_control(&file.key))
                        .send()
                        .await
                        .map_err(crate::aws::sdk_error)
                        .with_context(|| format!("cannot upload {} to {bucket}", file.key))?;
                    bar.inc(1);
                    if !ui::is_interactive() {
                        ui::info(format!("uploaded {}", file.key));
                    }
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(PARALLEL_UPLOADS)
            .try_collect::<()>()
            .await?;
        bar.finish_and_clear();
    }
    // DeleteObjects takes at most 1,000 keys per call.
    for batch in plan.delete.chunks(1000) {
        let objects = batch
            .iter()
            .map(|key| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(key)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let delete = aws_sdk_s3::types::Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()?;
        let output = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(crate::aws::sdk_error)
            .with_context(|| format!("cannot delete old site files from {bucket}"))?;
        if let Some(error) = output.errors().first() {
            anyhow::bail!(
                "cannot delete {} from {bucket}: {}",
                error.key().unwrap_or_default(),
                error.message().unwrap_or_default()
            );
        }
        for key in batch {
            ui::info(format!("deleted {key}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5_hex(body: &[u8]) -> String {
        hex::encode(Md5::digest(body))
    }

    #[test]
    fn a_plain_etag_is_the_md5_of_the_body() {
        assert!(etag_matches(b"hello", &md5_hex(b"hello")));
        assert!(etag_matches(
            b"hello",
            &format!("\"{}\"", md5_hex(b"hello"))
        ));
        assert!(!etag_matches(b"hello!", &md5_hex(b"hello")));
    }

    #[test]
    fn a_multipart_etag_is_recomputed_with_8_mib_parts() {
        let body = vec![7u8; MULTIPART_PART_SIZE + 10];
        let mut outer = Md5::new();
        outer.update(Md5::digest(&body[..MULTIPART_PART_SIZE]));
        outer.update(Md5::digest(&body[MULTIPART_PART_SIZE..]));
        let etag = format!("{}-2", hex::encode(outer.finalize()));
        assert!(etag_matches(&body, &etag));
        assert!(
            !etag_matches(&body, &etag.replace("-2", "-3")),
            "a different part count is a change"
        );
        let mut changed = body.clone();
        changed[0] = 8;
        assert!(!etag_matches(&changed, &etag));
    }

    #[test]
    fn an_unreadable_etag_counts_as_changed() {
        assert!(!etag_matches(b"x", "abc-notanumber"));
        assert!(!etag_matches(b"x", ""));
    }

    #[test]
    fn content_types_name_the_charset_of_text() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/js/app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("config.json"),
            "application/json; charset=utf-8"
        );
        assert_eq!(content_type("assets/style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("logo.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("photo.png"), "image/png");
        assert_eq!(content_type("font.woff2"), "font/woff2");
        assert_eq!(content_type("no-extension"), "application/octet-stream");
    }

    #[test]
    fn html_and_config_are_revalidated_and_fingerprinted_assets_cached_for_a_year() {
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("about/index.html"), "no-cache");
        assert_eq!(cache_control("config.json"), "no-cache");
        assert_eq!(
            cache_control("assets/app.3f9a2b1c.js"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_control("assets/index-BQz3k9a1.css"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("assets/js/storage.js"), "public, max-age=300");
        assert_eq!(
            cache_control("assets/icons/favicon.ico"),
            "public, max-age=300"
        );
        assert_eq!(
            cache_control("assets/data/config.json"),
            "public, max-age=300"
        );
    }

    #[test]
    fn ordinary_names_are_not_mistaken_for_fingerprints() {
        for name in [
            "storage.js",
            "background-image.png",
            "main_component.js",
            "v2-release.js",
            "20261126.js",
        ] {
            assert!(!is_fingerprinted(name), "{name}");
        }
    }

    #[test]
    fn the_plan_uploads_changed_and_new_files_and_deletes_gone_ones() {
        let file = |key: &str, body: &[u8]| SiteFile {
            key: key.into(),
            body: Arc::new(body.to_vec()),
        };
        let local = vec![
            file("index.html", b"new"),
            file("same.js", b"same"),
            file("added.css", b"a"),
        ];
        let remote = BTreeMap::from([
            ("index.html".to_owned(), md5_hex(b"old")),
            ("same.js".to_owned(), md5_hex(b"same")),
            ("gone.png".to_owned(), md5_hex(b"gone")),
        ]);
        let plan = plan(&local, &remote);
        assert_eq!(plan.upload, ["index.html", "added.css"]);
        assert_eq!(plan.delete, ["gone.png"]);
        assert_eq!(plan.unchanged, 1);
    }
}
