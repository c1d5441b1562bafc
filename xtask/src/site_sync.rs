//! Syncs the static site to its bucket by content: upload what changed, delete what is gone.
//!
//! A file is unchanged when its MD5 equals the object's ETag. We upload with single-part
//! `PutObject`, whose ETag is the MD5 of the body (the site bucket uses SSE-S3, which keeps that
//! true). An object uploaded by another tool with multipart has an ETag `md5-of-part-md5s-N`:
//! it is recomputed with the part size the AWS CLI and SDKs use by default (8 MiB) and counts as
//! changed when that does not match, so one upload turns it into a plain ETag again.
//!
//! One file over 500 lines: the plan, the ETag rules and the uploads share the manifest types, and
//! about half the file is their tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use serde::Serialize;

use crate::release::SiteObject;
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
/// Returns the S3 version id of each uploaded file (none when the bucket is not versioned).
/// In the versioned site bucket a delete only hides a file: its versions stay for rollbacks.
pub async fn apply(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    files: &[SiteFile],
    plan: &SitePlan,
) -> Result<BTreeMap<String, Option<String>>> {
    let by_key: BTreeMap<&str, &SiteFile> =
        files.iter().map(|file| (file.key.as_str(), file)).collect();
    let mut versions = BTreeMap::new();
    if !plan.upload.is_empty() {
        let bar = ui::progress(plan.upload.len() as u64, "uploading site files");
        futures::stream::iter(plan.upload.iter())
            .map(|key| {
                let file = by_key[key.as_str()];
                let bar = bar.clone();
                async move {
                    let put = s3
                        .put_object()
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
                    anyhow::Ok((file.key.clone(), put.version_id))
                }
            })
            .buffer_unordered(PARALLEL_UPLOADS)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .for_each(|(key, version)| {
                versions.insert(key, version);
            });
        bar.finish_and_clear();
    }
    delete(s3, bucket, &plan.delete).await?;
    Ok(versions)
}

/// Deletes keys, 1,000 per DeleteObjects call (its limit).
pub async fn delete(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[String]) -> Result<()> {
    for batch in keys.chunks(1000) {
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

/// The site as published: every file's MD5 and S3 version. Uploaded files have the version their
/// upload returned; unchanged ones keep the version the last release recorded; anything else
/// (the first release, or a bucket versioned only now) is read from the bucket's version list.
pub async fn manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    files: &[SiteFile],
    uploaded: BTreeMap<String, Option<String>>,
    previous: Option<&BTreeMap<String, SiteObject>>,
) -> Result<BTreeMap<String, SiteObject>> {
    let mut manifest: BTreeMap<String, SiteObject> = files
        .iter()
        .map(|file| {
            let md5 = hex::encode(Md5::digest(file.body.as_slice()));
            let version_id = match uploaded.get(&file.key) {
                Some(version) => version.clone(),
                None => previous
                    .and_then(|site| site.get(&file.key))
                    .filter(|old| old.md5 == md5)
                    .and_then(|old| old.version_id.clone()),
            };
            (file.key.clone(), SiteObject { md5, version_id })
        })
        .collect();
    if manifest.values().any(|object| object.version_id.is_none()) {
        let current = current_versions(s3, bucket).await?;
        for (key, object) in manifest.iter_mut() {
            if object.version_id.is_none() {
                object.version_id = current
                    .get(key)
                    .filter(|(etag, _)| etag.trim_matches('"') == object.md5)
                    .map(|(_, version)| version.clone())
                    .filter(|version| version != "null");
            }
        }
    }
    Ok(manifest)
}

/// Key → (ETag, version id) of the current version of every object.
async fn current_versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<BTreeMap<String, (String, String)>> {
    let mut current = BTreeMap::new();
    let mut key_marker = None;
    let mut version_marker = None;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .map_err(crate::aws::sdk_error)
            .with_context(|| format!("cannot list the versions in {bucket}"))?;
        for version in page.versions() {
            if version.is_latest() == Some(true)
                && let (Some(key), Some(id)) = (version.key(), version.version_id())
            {
                current.insert(
                    key.to_owned(),
                    (
                        version.e_tag().unwrap_or_default().to_owned(),
                        id.to_owned(),
                    ),
                );
            }
        }
        if page.is_truncated() != Some(true) {
            return Ok(current);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

/// What putting the site back as a release published it takes: each file whose bytes differ is
/// restored (`upload`), each file the release did not have is deleted.
pub fn restore_plan(
    wanted: &BTreeMap<String, SiteObject>,
    remote: &BTreeMap<String, String>,
) -> SitePlan {
    let mut plan = SitePlan::default();
    for (key, object) in wanted {
        match remote.get(key) {
            Some(etag) if etag.eq_ignore_ascii_case(&object.md5) => plan.unchanged += 1,
            _ => plan.upload.push(key.clone()),
        }
    }
    plan.delete = remote
        .keys()
        .filter(|key| !wanted.contains_key(*key))
        .cloned()
        .collect();
    plan
}

/// Carries out a `restore_plan`: each file is copied from its recorded version (a new current
/// version with the same bytes and headers). Returns the site's manifest afterwards.
pub async fn restore(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    wanted: &BTreeMap<String, SiteObject>,
    current: Option<&BTreeMap<String, SiteObject>>,
    plan: &SitePlan,
) -> Result<BTreeMap<String, SiteObject>> {
    let mut manifest: BTreeMap<String, SiteObject> = wanted
        .iter()
        .filter(|(key, _)| !plan.upload.contains(key))
        .map(|(key, object)| {
            // Unchanged: the current version has these bytes; name it when it is known.
            let version_id = current
                .and_then(|site| site.get(key))
                .filter(|now| now.md5 == object.md5)
                .map_or_else(|| object.version_id.clone(), |now| now.version_id.clone());
            (
                key.clone(),
                SiteObject {
                    md5: object.md5.clone(),
                    version_id,
                },
            )
        })
        .collect();
    let copies = futures::stream::iter(plan.upload.iter())
        .map(|key| {
            let object = &wanted[key];
            async move {
                let version = object.version_id.as_deref().with_context(|| {
                    format!(
                        "the release recorded no S3 version of {key} (the site bucket was not \
                         versioned yet); deploy instead of rolling back"
                    )
                })?;
                let copied = s3
                    .copy_object()
                    .bucket(bucket)
                    .key(key)
                    .copy_source(format!(
                        "{bucket}/{}?versionId={version}",
                        copy_source_path(key)
                    ))
                    .send()
                    .await
                    .map_err(crate::aws::sdk_error)
                    .with_context(|| {
                        format!("cannot restore {key} from its version {version} in {bucket}")
                    })?;
                ui::info(format!("restored {key}"));
                anyhow::Ok((
                    key.clone(),
                    SiteObject {
                        md5: object.md5.clone(),
                        version_id: copied.version_id,
                    },
                ))
            }
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .try_collect::<Vec<_>>()
        .await?;
    manifest.extend(copies);
    delete(s3, bucket, &plan.delete).await?;
    Ok(manifest)
}

/// A key as the path part of `x-amz-copy-source`: every byte but unreserved ones and `/`
/// percent-encoded.
fn copy_source_path(key: &str) -> String {
    key.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
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
