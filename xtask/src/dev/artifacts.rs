//! Placeholder Lambda zips for the `local` stage's stacks.
//!
//! The local gateway runs every handler in-process, so the emulator never executes Lambda code;
//! the app stack still needs a zip per function. A release build of eleven functions takes many
//! minutes on two cores, so `cargo xtask dev` deploys these tiny stand-ins instead.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::tools;

/// What the placeholder says if anything ever runs it.
const PLACEHOLDER: &[u8] = b"#!/bin/sh\n\
echo 'placeholder deployed by cargo xtask dev: the local gateway runs this function in-process' >&2\n\
exit 1\n";

/// `target/dev-artifacts`, holding `{function}/bootstrap.zip` for every function.
pub fn write_placeholders() -> Result<PathBuf> {
    let dir = tools::target_dir().join("dev-artifacts");
    let zip = placeholder_zip()?;
    for function in stacks::FUNCTIONS {
        let function_dir = dir.join(function.name);
        std::fs::create_dir_all(&function_dir)
            .with_context(|| format!("cannot create {}", function_dir.display()))?;
        let path = function_dir.join("bootstrap.zip");
        std::fs::write(&path, &zip).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir)
}

fn placeholder_zip() -> Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    writer.start_file("bootstrap", options)?;
    writer.write_all(PLACEHOLDER)?;
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_placeholder_is_an_executable_bootstrap() {
        let bytes = placeholder_zip().unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert!(text.contains("in-process"));
    }
}
