//! `cargo xtask migrate verify`: the dump against the stage. Every migrated user has their
//! account, and as many migrated images as the dump gives them; every Nth record is compared
//! field by field, and its copied file by SHA-256. Any difference fails the command.

use std::collections::HashMap;
use std::fmt;

use anyhow::{Context as _, Result, bail};
use mumble_core::store::MediaStore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::keys;
use super::mapping;
use super::source;
use super::target::Target;
use crate::cli::{MigrateVerify, OutputFormat};
use crate::{aws, outputs, ui};

/// Differences listed in full; beyond that only counted.
const MAX_LISTED: usize = 50;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    stage: String,
    users: u64,
    images: u64,
    records_compared: u64,
    objects_compared: u64,
    difference_count: u64,
    differences: Vec<String>,
}

impl Verification {
    fn differ(&mut self, what: String) {
        self.difference_count += 1;
        if self.differences.len() < MAX_LISTED {
            self.differences.push(what);
        }
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "stage {}: {} users and {} images checked, {} records compared field by field, {} objects by checksum",
            self.stage, self.users, self.images, self.records_compared, self.objects_compared
        )?;
        if self.difference_count == 0 {
            return write!(f, "  no differences");
        }
        writeln!(f, "  {} differences:", self.difference_count)?;
        for difference in &self.differences {
            writeln!(f, "  - {difference}")?;
        }
        if self.difference_count > self.differences.len() as u64 {
            write!(
                f,
                "  ... and {} more",
                self.difference_count - self.differences.len() as u64
            )?;
        }
        Ok(())
    }
}

impl MigrateVerify {
    pub async fn run(self) -> Result<()> {
        let stage = self.stage.resolve()?;
        let collections = source::locate(&self.from)?;
        let every = self.every.max(1);
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let outputs = outputs::read(&config, &stage).await?;
        let target = Target::new(&config, &stage, &outputs)?;
        let mut found = Verification {
            stage: stage.name.clone(),
            ..Verification::default()
        };

        let mut owners: HashMap<String, String> = HashMap::new();
        for item in target.ledger().await? {
            if let (Some(key), Some(user_id)) = (
                keys::string(&item, keys::USER_ID),
                keys::string(&item, keys::NEW_USER_ID),
            ) {
                owners.insert(
                    key.trim_start_matches(keys::LEDGER_PREFIX).to_owned(),
                    user_id.to_owned(),
                );
            }
        }
        // New user id → how many migrated images the dump gives them.
        let mut expected: HashMap<String, u64> = HashMap::new();

        for collection in &collections {
            ui::step(format!("comparing {}", collection.name));
            let mut n = 0u64;
            for item in collection.documents()? {
                let (_, Ok(doc)) = item? else { continue };
                if collection.name == "users" {
                    let Ok(user) = mapping::user(&doc) else {
                        continue;
                    };
                    found.users += 1;
                    let Some(user_id) = owners.get(&user.id) else {
                        found.differ(format!(
                            "user {} ({}) is not in the stage",
                            user.id, user.email
                        ));
                        continue;
                    };
                    expected.entry(user_id.clone()).or_insert(0);
                    n += 1;
                    if n.is_multiple_of(every) {
                        check_user(&target, &user, user_id, &mut found).await?;
                    }
                } else {
                    let Ok(image) = mapping::image(&doc) else {
                        continue;
                    };
                    let Some(owner) = owners.get(&image.user_id) else {
                        continue;
                    };
                    found.images += 1;
                    if !image.deleted {
                        *expected.entry(owner.clone()).or_insert(0) += 1;
                    }
                    n += 1;
                    if n.is_multiple_of(every) {
                        check_image(&target, &image, owner, self.uploads.as_deref(), &mut found)
                            .await?;
                    }
                }
            }
        }
        ui::step(format!("counting the images of {} users", expected.len()));
        for (user_id, count) in &expected {
            let actual = target.count_migrated_images(user_id).await?;
            if actual != *count {
                found.differ(format!(
                    "user {user_id} has {actual} migrated images in the stage, the dump gives them {count}"
                ));
            }
        }

        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
            OutputFormat::Text => println!("{found}"),
        }
        if found.difference_count > 0 {
            bail!(
                "the stage differs from the dump in {} places; rerun `cargo xtask migrate` (it \
                 writes only what differs), then verify again",
                found.difference_count
            );
        }
        Ok(())
    }
}

async fn check_user(
    target: &Target,
    user: &mapping::LegacyUser,
    user_id: &str,
    found: &mut Verification,
) -> Result<()> {
    found.records_compared += 1;
    let Some(profile) = target
        .get_item(&target.users_table, keys::user_key(user_id))
        .await?
    else {
        found.differ(format!("user {} has no profile {user_id}", user.id));
        return Ok(());
    };
    // A merged user's profile is the keeper's; one made on the new site is the person's own.
    if keys::string(&profile, keys::LEGACY_ID) != Some(user.id.as_str()) {
        return Ok(());
    }
    let fields = [
        ("email", user.email.as_str()),
        ("displayName", user.display_name.as_str()),
        ("preferredLanguage", user.language.as_str()),
        ("createdAt", user.created_at.as_str()),
    ];
    for (name, want) in fields {
        let got = keys::string(&profile, name).unwrap_or_default();
        if got != want {
            found.differ(format!(
                "user {}: {name} is {got:?} in the stage, {want:?} in the dump",
                user.id
            ));
        }
    }
    if target.account(&user.email).await.is_err() {
        found.differ(format!(
            "user {} has no account for {}",
            user.id, user.email
        ));
    }
    Ok(())
}

async fn check_image(
    target: &Target,
    image: &mapping::LegacyImage,
    owner: &str,
    uploads: Option<&std::path::Path>,
    found: &mut Verification,
) -> Result<()> {
    let image_id = keys::image_id(&image.id);
    let item = target
        .get_item(
            &target.images_table,
            keys::image_key(&image_id, &image.created_at),
        )
        .await?;
    let item = match (item, image.deleted) {
        (None, true) => return Ok(()),
        (Some(_), true) => {
            found.differ(format!(
                "image {} is deleted in the dump but still in the stage",
                image.id
            ));
            return Ok(());
        }
        (None, false) => {
            found.differ(format!(
                "image {} is not in the stage (as {image_id})",
                image.id
            ));
            return Ok(());
        }
        (Some(item), false) => item,
    };
    found.records_compared += 1;
    let record: mumble_core::store::ImageRecord = match serde_dynamo::from_item(item) {
        Ok(record) => record,
        Err(e) => {
            found.differ(format!(
                "image {}: the record does not read back: {e}",
                image.id
            ));
            return Ok(());
        }
    };
    let mut compare = |name: &str, got: String, want: String| {
        if got != want {
            found.differ(format!(
                "image {}: {name} is {got:?} in the stage, {want:?} in the dump",
                image.id
            ));
        }
    };
    compare("userId", record.user_id.clone(), owner.to_owned());
    compare(
        "transcript",
        record.transcript.clone(),
        image.transcript.clone(),
    );
    compare("prompt", record.prompt.clone(), image.prompt.clone());
    compare(
        "weather",
        format!("{:?}", record.weather),
        format!("{:?}", image.weather),
    );
    let file = match (&image.image_path, uploads) {
        (Some(path), Some(uploads)) => std::fs::read(uploads.join(path)).ok(),
        _ => None,
    };
    let Some(file) = file else {
        if uploads.is_some() && !record.unavailable {
            found.differ(format!(
                "image {} has no file in the dump but is not marked unavailable",
                image.id
            ));
        }
        return Ok(());
    };
    if record.unavailable {
        // A file that is there but not an image the processor reads is migrated as unavailable.
        if image_processor::thumbnail::make(&file).is_ok() {
            found.differ(format!(
                "image {} is marked unavailable, but its file is there",
                image.id
            ));
        }
        return Ok(());
    }
    found.objects_compared += 1;
    let copied = target
        .media
        .get(&record.image_key)
        .await
        .with_context(|| format!("reading {}", record.image_key))?;
    match copied {
        Some(copied) if Sha256::digest(&copied) == Sha256::digest(&file) => {}
        Some(_) => found.differ(format!(
            "image {}: {} differs from its file",
            image.id, record.image_key
        )),
        None => found.differ(format!(
            "image {}: {} is missing",
            image.id, record.image_key
        )),
    }
    if let Some(thumbnail) = &record.thumbnail_key {
        let found_thumbnail = target
            .media
            .get(thumbnail)
            .await
            .with_context(|| format!("reading {thumbnail}"))?;
        if found_thumbnail.is_none() {
            found.differ(format!(
                "image {}: its thumbnail {thumbnail} is missing",
                image.id
            ));
        }
    } else {
        found.differ(format!("image {} has no thumbnail", image.id));
    }
    Ok(())
}
