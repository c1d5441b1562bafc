//! Reading the old MongoDB's collections one document at a time: a `mongodump` directory
//! (`.bson`, or `.bson.gz` with `--gzip`) or `mongoexport` JSON Lines in Extended JSON (canonical
//! or relaxed). Files are only ever opened for reading, and no collection is held in memory.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bson::{Bson, Document};

/// The collections the migration reads, in the order it reads them (images need their owners).
pub const COLLECTIONS: [&str; 2] = ["users", "images"];

/// The largest document MongoDB stores (16 MiB), with room for mongodump's framing.
const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024 + 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Bson { gzip: bool },
    JsonLines { gzip: bool },
}

/// One collection's file in the dump.
#[derive(Debug, Clone)]
pub struct Collection {
    pub name: &'static str,
    pub path: PathBuf,
    pub format: Format,
}

/// Where a document sits in its file, for the rejects file when it has no usable `_id`.
#[derive(Debug, Clone, Copy)]
pub enum Position {
    /// The byte offset of a BSON document.
    Offset(u64),
    /// The line of a JSON document (1-based).
    Line(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Offset(offset) => write!(f, "byte {offset}"),
            Position::Line(line) => write!(f, "line {line}"),
        }
    }
}

/// A document, or why the bytes at a position are not one (the file goes on after it).
pub type Entry = (Position, Result<Document, String>);

/// The collections in `from`: a dump directory (`mumble/users.bson` or `users.bson` and so on),
/// or one collection's file named after it (`images.json`). Users come first.
pub fn locate(from: &Path) -> Result<Vec<Collection>> {
    if from.is_file() {
        let file_name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let stem = file_name.split('.').next().unwrap_or("");
        let Some(name) = COLLECTIONS.into_iter().find(|c| *c == stem) else {
            bail!(
                "{} is not a collection file the migration reads; name it users.bson, images.json \
                 and so on (.bson, .bson.gz, .json, .jsonl, .json.gz), or pass the dump directory",
                from.display()
            );
        };
        let format = format_of(file_name).with_context(|| {
            format!(
                "{} is neither BSON (.bson, .bson.gz) nor JSON Lines (.json, .jsonl, .json.gz)",
                from.display()
            )
        })?;
        return Ok(vec![Collection {
            name,
            path: from.to_owned(),
            format,
        }]);
    }
    if !from.is_dir() {
        bail!(
            "{} does not exist; pass the mongodump directory or a mongoexport file with --from",
            from.display()
        );
    }
    let mut found = Vec::new();
    for name in COLLECTIONS {
        let mut candidates = Vec::new();
        for dir in [from.join("mumble"), from.to_owned()] {
            for suffix in [
                ".bson",
                ".bson.gz",
                ".json",
                ".jsonl",
                ".ndjson",
                ".json.gz",
                ".jsonl.gz",
            ] {
                let path = dir.join(format!("{name}{suffix}"));
                if path.is_file() {
                    candidates.push(path);
                }
            }
        }
        match candidates.as_slice() {
            [] => {}
            [path] => found.push(Collection {
                name,
                format: format_of(&path.to_string_lossy()).expect("a known suffix"),
                path: path.clone(),
            }),
            _ => bail!(
                "{} holds the `{name}` collection more than once ({}); keep one",
                from.display(),
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    if found.is_empty() {
        bail!(
            "{} holds neither users nor images (looked for mumble/users.bson, users.bson, \
             users.json and the same for images); pass the directory mongodump wrote",
            from.display()
        );
    }
    Ok(found)
}

fn format_of(name: &str) -> Option<Format> {
    let (name, gzip) = match name.strip_suffix(".gz") {
        Some(inner) => (inner, true),
        None => (name, false),
    };
    if name.ends_with(".bson") {
        Some(Format::Bson { gzip })
    } else if [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        Some(Format::JsonLines { gzip })
    } else {
        None
    }
}

impl Collection {
    /// The collection's documents, read lazily. A damaged document is an `Err` item and reading
    /// goes on; a file that cannot be read on (truncated framing) ends with an error.
    pub fn documents(&self) -> Result<Box<dyn Iterator<Item = Result<Entry>> + Send>> {
        let file = File::open(&self.path)
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        let path = self.path.clone();
        Ok(match self.format {
            Format::Bson { gzip } => Box::new(BsonDocuments {
                reader: reader(file, gzip),
                offset: 0,
                path,
                done: false,
            }),
            Format::JsonLines { gzip } => Box::new(JsonDocuments {
                lines: BufReader::with_capacity(256 * 1024, reader(file, gzip)),
                line: 0,
                path,
                done: false,
            }),
        })
    }
}

fn reader(file: File, gzip: bool) -> Box<dyn Read + Send> {
    let file = BufReader::with_capacity(256 * 1024, file);
    if gzip {
        // mongodump --gzip writes one gzip member per file; MultiGz also reads concatenated ones.
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    }
}

/// mongodump's format: documents back to back, each starting with its little-endian i32 length.
struct BsonDocuments {
    reader: Box<dyn Read + Send>,
    offset: u64,
    path: PathBuf,
    done: bool,
}

impl Iterator for BsonDocuments {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.read_one();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }
}

impl BsonDocuments {
    fn read_one(&mut self) -> Option<Result<Entry>> {
        let position = Position::Offset(self.offset);
        let mut length = [0u8; 4];
        match read_full(&mut self.reader, &mut length) {
            Ok(0) => return None,
            Ok(4) => {}
            Ok(_) => return Some(Err(self.truncated(position))),
            Err(e) => return Some(Err(self.io_error(e))),
        }
        let size = i32::from_le_bytes(length);
        let Ok(size) = usize::try_from(size) else {
            return Some(Err(self.framing(position, size)));
        };
        if !(5..=MAX_DOCUMENT_BYTES).contains(&size) {
            return Some(Err(self.framing(position, size as i32)));
        }
        let mut bytes = vec![0u8; size];
        bytes[..4].copy_from_slice(&length);
        match read_full(&mut self.reader, &mut bytes[4..]) {
            Ok(n) if n == size - 4 => {}
            Ok(_) => return Some(Err(self.truncated(position))),
            Err(e) => return Some(Err(self.io_error(e))),
        }
        self.offset += size as u64;
        let document = Document::from_reader(&mut bytes.as_slice())
            .map_err(|e| format!("not a BSON document: {e}"));
        Some(Ok((position, document)))
    }

    fn truncated(&self, position: Position) -> anyhow::Error {
        anyhow::anyhow!(
            "{} ends in the middle of a document at {position}; the dump is incomplete, make it again",
            self.path.display()
        )
    }

    fn framing(&self, position: Position, size: i32) -> anyhow::Error {
        anyhow::anyhow!(
            "{} has a document of {size} bytes at {position}, which BSON cannot be; \
             the file is damaged or not a mongodump .bson file",
            self.path.display()
        )
    }

    fn io_error(&self, e: std::io::Error) -> anyhow::Error {
        anyhow::anyhow!("cannot read {}: {e}", self.path.display())
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// mongoexport's format: one Extended JSON document per line.
struct JsonDocuments {
    lines: BufReader<Box<dyn Read + Send>>,
    line: u64,
    path: PathBuf,
    done: bool,
}

impl Iterator for JsonDocuments {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let mut text = String::new();
            match self.lines.read_line(&mut text) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(anyhow::anyhow!(
                        "cannot read {} after line {}: {e}",
                        self.path.display(),
                        self.line
                    )));
                }
            }
            self.line += 1;
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if self.line == 1 && text.starts_with('[') {
                self.done = true;
                return Some(Err(anyhow::anyhow!(
                    "{} is a JSON array; export the collection as JSON Lines \
                     (mongoexport without --jsonArray)",
                    self.path.display()
                )));
            }
            return Some(Ok((Position::Line(self.line), parse_json(text))));
        }
    }
}

/// One line of Extended JSON (canonical or relaxed) as a document.
pub fn parse_json(text: &str) -> Result<Document, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match Bson::try_from(value) {
        Ok(Bson::Document(document)) => Ok(document),
        Ok(other) => Err(format!(
            "not a document but a {:?} value",
            other.element_type()
        )),
        Err(e) => Err(format!("not Extended JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_say_the_format() {
        assert_eq!(
            format_of("users.bson.gz"),
            Some(Format::Bson { gzip: true })
        );
        assert_eq!(
            format_of("images.jsonl"),
            Some(Format::JsonLines { gzip: false })
        );
        assert_eq!(format_of("users.metadata.json.txt"), None);
    }

    #[test]
    fn canonical_and_relaxed_extended_json_read_the_same() {
        let canonical = parse_json(
            r#"{"_id":{"$oid":"5f1d7a3e9b1e8a2f3c4d5e6f"},"createdAt":{"$date":{"$numberLong":"1595000000000"}},"n":{"$numberInt":"3"}}"#,
        )
        .unwrap();
        let relaxed = parse_json(
            r#"{"_id":{"$oid":"5f1d7a3e9b1e8a2f3c4d5e6f"},"createdAt":{"$date":"2020-07-17T15:33:20Z"},"n":3}"#,
        )
        .unwrap();
        assert_eq!(canonical, relaxed);
        assert!(parse_json("[1, 2]").is_err());
        assert!(parse_json("{\"a\": ").is_err());
    }
}
