//! `cargo xtask bench migrate`: a generated dump of 10,000 users and 100,000 images (1 % messy)
//! migrated into a scratch stage on a private emulator by the real binary: records written per
//! second, the process's peak memory, and an incremental rerun after 100 documents changed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bson::{Bson, doc, oid::ObjectId};

use super::deploy::Scratch;
use crate::bench::{Context, Row};

const USERS: u32 = 10_000;
const IMAGES: u32 = 100_000;
/// One image in this many has its file in the uploads folder; the others only an expired URL,
/// as most of the old site's images did (the S3 copies, not the tables, would dominate otherwise).
const FILE_EVERY: u32 = 20;
const CHANGED: u32 = 100;

pub async fn run(_context: Context) -> Result<Vec<Row>> {
    let scratch = Scratch::new("bmig").await?;
    std::fs::create_dir_all(scratch.site())?;
    std::fs::write(
        scratch.site().join("index.html"),
        "<!doctype html><title>bench</title>\n",
    )?;
    scratch.deploy()?;
    let dir = tempfile::tempdir()?;
    let dump = dir.path().join("dump");
    let uploads = dir.path().join("uploads");
    crate::ui::step(format!(
        "writing a dump of {USERS} users and {IMAGES} images"
    ));
    write_dump(&dump, &uploads, 0)?;

    let (report, elapsed, peak) = migrate(&scratch, &dump, &uploads)?;
    let written = written(&report);
    let rate = written as f64 / elapsed.as_secs_f64();

    // 100 documents changed since: 50 images edited, 50 soft-deleted.
    write_dump(&dump, &uploads, CHANGED)?;
    let (again, incremental, _) = migrate(&scratch, &dump, &uploads)?;
    let rewritten = written_or_deleted(&again);
    if rewritten != u64::from(CHANGED) {
        bail!(
            "the incremental run wrote {rewritten} records for {CHANGED} changed documents: {again:#}"
        );
    }
    Ok(vec![
        Row::new("records written per second", rate.round(), "records/s").at_least(1000.0),
        Row::new(
            "peak memory of the migration",
            (peak as f64 / 1024.0).round(),
            "MB",
        )
        .at_most(150.0),
        Row::new(
            format!("incremental rerun, {CHANGED} changed documents"),
            (incremental.as_secs_f64() * 10.0).round() / 10.0,
            "s",
        )
        .at_most(10.0),
        Row::new(
            format!("full migration ({written} records, 1 image in {FILE_EVERY} with a file)"),
            (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            "s",
        ),
    ])
}

fn written(report: &serde_json::Value) -> u64 {
    report["collections"]
        .as_object()
        .map(|c| {
            c.values()
                .map(|v| v["written"].as_u64().unwrap_or(0) + v["merged"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn written_or_deleted(report: &serde_json::Value) -> u64 {
    written(report)
        + report["collections"]["images"]["deleted"]
            .as_u64()
            .unwrap_or(0)
}

/// Runs the binary; its report, wall time and peak resident memory in KiB (Linux's VmHWM).
fn migrate(
    scratch: &Scratch,
    dump: &Path,
    uploads: &Path,
) -> Result<(serde_json::Value, Duration, u64)> {
    let rejects = dump.with_file_name("rejects.jsonl");
    let log_path = dump.with_file_name("migrate.log");
    let log = File::create(&log_path).context("cannot create the migration's log")?;
    let mut command = Command::new(std::env::current_exe()?);
    scratch.emulator.configure(&mut command);
    command
        .args([
            "migrate",
            "--stage",
            &scratch.stage,
            "--yes",
            "--output",
            "json",
            "--from",
        ])
        .arg(dump)
        .arg("--uploads")
        .arg(uploads)
        .arg("--rejects")
        .arg(&rejects)
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let mut child = command.spawn().context("cannot run the migration")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().context("stdout is piped")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).map(|_| out)
    });
    let mut peak = 0;
    let status = loop {
        // VmHWM is the high-water mark, so the last reading before the exit is the peak.
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = started.elapsed();
    let out = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader panicked"))??;
    if !status.success() {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        bail!(
            "the migration failed ({status}); the end of its messages:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok((serde_json::from_slice(&out)?, elapsed, peak))
}

fn oid(kind: u8, n: u32) -> ObjectId {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&0x5f00_0000u32.to_be_bytes());
    bytes[4] = kind;
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

/// The dump as mongodump writes it. With `changed` > 0, half that many images are edited and half
/// soft-deleted. One document in 100 is messy: dates as text, numbers as text, a missing owner,
/// an e-mail in another case, a missing file.
fn write_dump(dump: &Path, uploads: &Path, changed: u32) -> Result<()> {
    let folder = dump.join("mumble");
    std::fs::create_dir_all(&folder)?;
    std::fs::create_dir_all(uploads.join("images"))?;
    let day = |n: u32| bson::DateTime::from_millis(1_600_000_000_000 + i64::from(n) * 60_000);

    let mut out = BufWriter::new(File::create(folder.join("users.bson"))?);
    for n in 0..USERS {
        let mut user = doc! {
            "_id": oid(1, n), "email": format!("user{n}@example.org"),
            "passwordHash": "$2b$10$abcdefghijklmnopqrstuv", "displayName": format!("User {n}"),
            "language": (if n % 2 == 0 { "zh" } else { "en" }), "createdAt": day(n),
        };
        if n % 100 == 7 {
            user.insert("createdAt", Bson::String("2020-09-13 12:26:40".into()));
        }
        if n % 100 == 13 && n > 0 {
            // The same person again, in another case.
            user.insert("email", format!("USER{}@example.org", n - 1));
        }
        if n % 100 == 42 {
            user.remove("email");
        }
        user.to_writer(&mut out)?;
    }
    out.flush()?;

    let png = {
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(32, 32, image::Rgb([200, 80, 40])).write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )?;
        bytes
    };
    let mut out = BufWriter::new(File::create(folder.join("images.bson"))?);
    for n in 0..IMAGES {
        let mut image = doc! {
            "_id": oid(2, n), "userId": oid(1, n % USERS), "transcription": format!("words {n}"),
            "prompt": format!("prompt {n}"), "createdAt": day(n),
            "weather": { "description": "clear", "temperature": 20.5, "location": "Shanghai" },
        };
        if n % FILE_EVERY == 0 {
            let path = format!("images/{n}.png");
            let file = uploads.join(&path);
            if n % 100 != 40 && !file.exists() {
                std::fs::write(&file, &png)?;
            }
            image.insert("imagePath", path);
        } else {
            image.insert(
                "imageUrl",
                format!("https://oaidalleapiprodscus.blob.core.windows.net/{n}.png"),
            );
        }
        match n % 100 {
            11 => {
                image.insert("createdAt", Bson::String("2020-09-13T12:26:40Z".into()));
            }
            23 => {
                image.insert("userId", oid(1, USERS + n));
            }
            31 => {
                image.insert(
                    "weather",
                    doc! { "description": "rain", "temperature": "18" },
                );
            }
            _ => {}
        }
        // The changed documents: spread over the dump, none of them messy.
        if changed > 0 && n % (IMAGES / changed) == 1 {
            // The old site stamps every edit and soft delete.
            image.insert("updatedAt", bson::DateTime::now());
            if (n / (IMAGES / changed)).is_multiple_of(2) {
                image.insert("prompt", format!("prompt {n}, edited"));
            } else {
                image.insert("deleted", true);
            }
        }
        image.to_writer(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
