//! `cargo xtask migrate`: the old Mumble's MongoDB dump and uploads folder into a stage's users
//! and images tables, media bucket and user pool. docs/migration.md has the field-by-field mapping.
//!
//! The run is idempotent and resumable by construction: new ids are derived from the legacy ones
//! (images) or kept in the stage (users: a ledger item per legacy user in the users table), and
//! every record carries a fingerprint of what it was made from, so a rerun compares and writes
//! only what is new or changed, and a killed run's rerun finishes its work without duplicates.
//! The dump is read twice for users (to merge e-mails that differ only in case) and once for
//! images, a chunk at a time; only the id maps stay in memory.
//!
//! One file for the run itself (both collections' passes and the per-chunk work): they share the
//! run's state and the order of its writes, which is what makes reruns safe.
//!
//! One file over 500 lines: the run's phases (accounts, images, files, checkpoint) share its
//! ledger and report; the reading, mapping, writing and verifying are modules beside it.

mod keys;
mod mapping;
mod report;
mod source;
mod target;
mod verify;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use futures::StreamExt;
use mumble_core::store::media::keys as media_keys;
use mumble_core::store::{ImageRecord, MediaStore, UserProfile};

use crate::cli::{Migrate, MigrateCommand, OutputFormat};
use crate::{aws, outputs, ui};
use keys::Item;
use mapping::{LegacyImage, LegacyUser};
use report::{Rejects, Report};
use source::Collection;
use target::Target;

/// Users per chunk: one BatchGetItem and one BatchWriteItem for the marks of the accounts to
/// make, each account's three Cognito calls, then three items each (profile, ledger, mark
/// cleared) in three BatchWriteItems.
const USERS_PER_CHUNK: usize = 25;
/// Images per chunk: one BatchGetItem (at most 100 keys) and four BatchWriteItems.
const IMAGES_PER_CHUNK: usize = 100;

impl Migrate {
    pub async fn run(self) -> Result<()> {
        match self.command {
            Some(MigrateCommand::Verify(verify)) => verify.run().await,
            None => self.migrate().await,
        }
    }

    async fn migrate(self) -> Result<()> {
        let started = Instant::now();
        let (Some(stage), Some(from)) = (&self.stage, &self.from) else {
            bail!("pass --stage and --from (see `cargo xtask migrate --help`)");
        };
        let stage = crate::stage::resolve(stage)?;
        let collections = source::locate(from)?;
        let has_images = collections.iter().any(|c| c.name == "images");
        let uploads = match &self.uploads {
            Some(dir) if !dir.is_dir() => bail!(
                "--uploads {} is not a directory; pass the copy of the old host's uploads folder",
                dir.display()
            ),
            Some(dir) => Some(dir.clone()),
            None if has_images => bail!(
                "the dump has images; pass the old host's uploads folder with --uploads DIR \
                 (their files are copied from it)"
            ),
            None => None,
        };
        if self.parallel == 0 {
            bail!("--parallel must be at least 1");
        }
        if stage.protected && !self.yes && !self.dry_run {
            if !ui::can_prompt() {
                bail!(
                    "stage `{}` is protected and there is no terminal to confirm on; \
                     pass `--yes` to migrate without asking, or `--dry-run` to only see the report",
                    stage.name
                );
            }
            if !crate::deploy::confirm(&format!(
                "migrate {} into the protected stage {}?",
                from.display(),
                stage.name
            ))? {
                bail!("nothing migrated: not confirmed");
            }
        }
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let outputs = outputs::read(&config, &stage).await?;
        let target = match Target::new(&config, &stage, &outputs) {
            Ok(target) => Some(target),
            // A dry run against a stage not yet deployed still reads and maps everything.
            Err(_) if self.dry_run && outputs.stacks.is_empty() => {
                ui::warn(format!(
                    "stage `{}` is not deployed: the report counts every document as new",
                    stage.name
                ));
                None
            }
            Err(e) => return Err(e),
        };
        let rejects_path = self
            .rejects
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("mumble-{}-rejects.jsonl", stage.name)));

        let mut run = Run {
            ctx: Arc::new(Context {
                target,
                uploads,
                dry_run: self.dry_run,
                abort_after: self.abort_after,
                copied: AtomicU64::new(0),
            }),
            parallel: self.parallel,
            report: Report {
                stage: stage.name.clone(),
                dry_run: self.dry_run,
                ..Report::default()
            },
            rejects: Rejects::create(&rejects_path)?,
            users: HashMap::new(),
            emails: HashMap::new(),
            done: 0,
            checkpoint: None,
            previous_checkpoint: None,
            latest: String::new(),
            fresh: HashSet::new(),
        };
        run.load_ledger().await?;
        run.load_checkpoint(self.full).await?;
        for collection in &collections {
            ui::step(format!(
                "{} from {}",
                collection.name,
                collection.path.display()
            ));
            match collection.name {
                "users" => run.users(collection).await?,
                _ => run.images(collection).await?,
            }
        }
        run.report.rejects_file = run.rejects.finish()?;
        run.report.seconds = started.elapsed().as_secs_f64();
        if let Some(target) = run.ctx.target.as_ref().filter(|_| !self.dry_run) {
            // The last completed run, for operators (`verify` and reruns compare fingerprints).
            let summary = serde_json::to_string(&run.report)?;
            let mut item = Item::from([
                (
                    keys::USER_ID.to_owned(),
                    AttributeValue::S(keys::RUN_KEY.into()),
                ),
                (
                    "finishedAt".to_owned(),
                    AttributeValue::S(mumble_core::time::now()),
                ),
                ("report".to_owned(), AttributeValue::S(summary)),
            ]);
            // Written only now, when every document up to it is in the stage: a killed run
            // leaves the previous checkpoint, and its rerun reads from there.
            if let Some(latest) = [
                run.previous_checkpoint.as_deref(),
                Some(run.latest.as_str()),
            ]
            .into_iter()
            .flatten()
            .filter(|at| !at.is_empty())
            .max()
            {
                item.insert(
                    keys::CHECKPOINT.to_owned(),
                    AttributeValue::S(latest.to_owned()),
                );
            }
            target.put_item(&target.users_table, item).await?;
        }
        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&run.report)?),
            OutputFormat::Text => println!("{}", run.report),
        }
        Ok(())
    }
}

/// What every chunk's work reads and nothing changes during a run.
struct Context {
    /// `None` only for a dry run against a stage that is not deployed.
    target: Option<Target>,
    uploads: Option<PathBuf>,
    dry_run: bool,
    /// `--abort-after`: exit abruptly once this many documents were worked on, as a kill would,
    /// leaving accounts without their ledger item and objects without their record.
    abort_after: Option<u64>,
    copied: AtomicU64,
}

impl Context {
    /// One document's account or files are done (its items are not written yet).
    fn worked_on(&self) {
        let n = self.copied.fetch_add(1, Ordering::SeqCst) + 1;
        if self.abort_after.is_some_and(|limit| n >= limit) {
            eprintln!("stopping abruptly after {n} documents (--abort-after)");
            std::process::exit(137);
        }
    }
}

struct Run {
    ctx: Arc<Context>,
    parallel: usize,
    report: Report,
    rejects: Rejects,
    /// Legacy user id → (new user id, fingerprint): the ledger, as loaded and as written.
    users: HashMap<String, (String, String)>,
    /// Lowercased e-mail → new user id.
    emails: HashMap<String, String>,
    done: u64,
    /// Images the old site last changed before this are in the stage as the last completed run
    /// left them, so they are skipped without asking the stage: that is what keeps a cut-over
    /// rerun short. An hour before the last run's latest document, for documents the old site
    /// was writing while it was dumped. `None`: compare everything (first run, `--full`).
    checkpoint: Option<String>,
    /// The checkpoint as the last completed run stored it.
    previous_checkpoint: Option<String>,
    /// The latest `createdAt`/`updatedAt` read in this run, the next run's checkpoint.
    latest: String,
    /// Legacy users written or merged in this run: their images are never skipped by the
    /// checkpoint (an image rejected while its owner was missing comes in with the owner).
    fresh: HashSet<String>,
}

/// What became of one user.
enum UserOutcome {
    Written {
        legacy: String,
        user_id: String,
        email: String,
        fingerprint: String,
    },
    Skipped,
}

/// What became of one image.
enum ImageOutcome {
    Written { copied: bool },
    Unavailable { id: String, reason: String },
    Skipped,
    Deleted,
}

impl Run {
    async fn load_ledger(&mut self) -> Result<()> {
        let Some(target) = &self.ctx.target else {
            return Ok(());
        };
        for item in target.ledger().await? {
            let (Some(key), Some(user_id)) = (
                keys::string(&item, keys::USER_ID),
                keys::string(&item, keys::NEW_USER_ID),
            ) else {
                continue;
            };
            let legacy = key.trim_start_matches(keys::LEDGER_PREFIX).to_owned();
            let fingerprint = keys::string(&item, keys::FINGERPRINT).unwrap_or_default();
            if let Some(email) = keys::string(&item, keys::EMAIL) {
                self.emails.insert(email.to_owned(), user_id.to_owned());
            }
            self.users
                .insert(legacy, (user_id.to_owned(), fingerprint.to_owned()));
        }
        if !self.users.is_empty() {
            ui::info(format!(
                "{} legacy users already migrated to this stage",
                self.users.len()
            ));
        }
        Ok(())
    }

    async fn load_checkpoint(&mut self, full: bool) -> Result<()> {
        let Some(target) = &self.ctx.target else {
            return Ok(());
        };
        let found = target
            .batch_get(&target.users_table, vec![keys::user_key(keys::RUN_KEY)])
            .await?;
        let Some(at) = found
            .iter()
            .find_map(|item| keys::string(item, keys::CHECKPOINT))
        else {
            return Ok(());
        };
        self.previous_checkpoint = Some(at.to_owned());
        if full {
            return Ok(());
        }
        let last = chrono::DateTime::parse_from_rfc3339(at).with_context(|| {
            format!("the stage's migration checkpoint {at:?} is not a time; rerun with --full")
        })?;
        let threshold = mumble_core::time::format(
            last.with_timezone(&chrono::Utc) - chrono::Duration::hours(1),
        );
        ui::info(format!(
            "images the old site last changed before {threshold} are as the last run left them \
             and are skipped (--full compares every one)"
        ));
        self.checkpoint = Some(threshold);
        Ok(())
    }

    /// Counts finished documents, with a progress line every 5,000.
    fn tick(&mut self, n: u64) {
        let before = self.done;
        self.done += n;
        if before / 5000 != self.done / 5000 {
            ui::info(format!("{} documents done", self.done));
        }
    }

    async fn users(&mut self, collection: &Collection) -> Result<()> {
        // Pass 1: reject what cannot be mapped; for each e-mail, the legacy user who keeps the
        // account (the earliest created; the others are merged into it).
        let mut keeper: HashMap<String, (String, String)> = HashMap::new();
        for item in collection.documents()? {
            let (at, document) = item?;
            let report = self.report.collection("users");
            report.read += 1;
            report.merged.get_or_insert(0);
            let (id, reason) = match document {
                Err(reason) => (None, reason),
                Ok(doc) => match mapping::user(&doc) {
                    Ok(user) => {
                        if user.updated_at > self.latest {
                            self.latest.clone_from(&user.updated_at);
                        }
                        let entry = keeper
                            .entry(user.email.clone())
                            .or_insert_with(|| (user.created_at.clone(), user.id.clone()));
                        if (&user.created_at, &user.id) < (&entry.0, &entry.1) {
                            *entry = (user.created_at, user.id);
                        }
                        continue;
                    }
                    Err(reject) => (mapping::id_of(&doc), reject.0),
                },
            };
            self.rejects.rejected("users", id.as_deref(), at, &reason)?;
            self.report.collection("users").rejected += 1;
        }

        // Pass 2: accounts and profiles for the keepers, a chunk at a time, in parallel.
        let mut merged = Vec::new();
        let mut seen = HashSet::new();
        let keepers = collection.documents()?.filter_map(|item| {
            let (_, Ok(doc)) = item.ok()? else {
                return None;
            };
            let user = mapping::user(&doc).ok()?;
            // A second document with the same _id (a messy dump) adds nothing.
            if !seen.insert(user.id.clone()) {
                return None;
            }
            match keeper.get(&user.email) {
                Some((_, id)) if *id == user.id => Some(user),
                _ => {
                    merged.push(user);
                    None
                }
            }
        });
        let known = Arc::new(std::mem::take(&mut self.users));
        let emails = Arc::new(std::mem::take(&mut self.emails));
        let shared = Arc::clone(&self.ctx);
        let mut outcomes = futures::stream::iter(chunks(keepers, USERS_PER_CHUNK))
            .map(|chunk| {
                let ctx = Arc::clone(&shared);
                let known = Arc::clone(&known);
                let emails = Arc::clone(&emails);
                async move { migrate_users(&ctx, &known, &emails, chunk).await }
            })
            .buffer_unordered(self.parallel);
        let mut written = Vec::new();
        while let Some(result) = outcomes.next().await {
            let chunk = result?;
            let n = chunk.len() as u64;
            for outcome in chunk {
                let report = self.report.collection("users");
                match outcome {
                    UserOutcome::Skipped => report.skipped += 1,
                    UserOutcome::Written {
                        legacy,
                        user_id,
                        email,
                        fingerprint,
                    } => {
                        report.written += 1;
                        written.push((legacy, user_id, email, fingerprint));
                    }
                }
            }
            self.tick(n);
        }
        drop(outcomes);
        self.users = Arc::try_unwrap(known).unwrap_or_else(|arc| (*arc).clone());
        self.emails = Arc::try_unwrap(emails).unwrap_or_else(|arc| (*arc).clone());
        for (legacy, user_id, email, fingerprint) in written {
            self.fresh.insert(legacy.clone());
            self.emails.insert(email, user_id.clone());
            self.users.insert(legacy, (user_id, fingerprint));
        }

        // The merged users: their ledger item points at the keeper's account.
        let mut ledger = Vec::new();
        for user in merged {
            let Some(user_id) = self.emails.get(&user.email).cloned() else {
                // The keeper's account was not made (a dry run against an empty stage).
                self.report.collection("users").merged.get_or_insert(0);
                *self
                    .report
                    .collection("users")
                    .merged
                    .as_mut()
                    .expect("set") += 1;
                continue;
            };
            let fingerprint = format!("merged:{}", user.fingerprint());
            let report = self.report.collection("users");
            if self
                .users
                .get(&user.id)
                .is_some_and(|(id, fp)| *id == user_id && *fp == fingerprint)
            {
                report.skipped += 1;
                continue;
            }
            *report.merged.get_or_insert(0) += 1;
            self.fresh.insert(user.id.clone());
            ledger.push(ledger_item(&user.id, &user_id, &user.email, &fingerprint));
            self.users.insert(user.id.clone(), (user_id, fingerprint));
        }
        if let Some(target) = self.ctx.target.as_ref().filter(|_| !self.ctx.dry_run) {
            let requests = ledger.into_iter().map(put).collect();
            target.batch_write(&target.users_table, requests).await?;
        }
        Ok(())
    }

    async fn images(&mut self, collection: &Collection) -> Result<()> {
        let report = self.report.collection("images");
        report.deleted.get_or_insert(0);
        report.files_copied.get_or_insert(0);
        report.files_missing.get_or_insert(0);
        let owners: Arc<HashMap<String, String>> = Arc::new(
            self.users
                .iter()
                .map(|(legacy, (user_id, _))| (legacy.clone(), user_id.clone()))
                .collect(),
        );
        let mut documents = collection.documents()?;
        // Rejects are found while reading, on the way to the chunks; the loop below writes them.
        let failure = RefCell::new(None);
        let early: RefCell<Vec<(Option<String>, source::Position, String)>> = RefCell::default();
        let read = Cell::new(0u64);
        let unchanged = Cell::new(0u64);
        let latest = RefCell::new(std::mem::take(&mut self.latest));
        let checkpoint = self.checkpoint.clone();
        let fresh = std::mem::take(&mut self.fresh);
        let mapped = std::iter::from_fn(|| {
            let mut early = early.borrow_mut();
            loop {
                let (at, document) = match documents.next()? {
                    Ok(item) => item,
                    Err(e) => {
                        *failure.borrow_mut() = Some(e);
                        return None;
                    }
                };
                read.set(read.get() + 1);
                let doc = match document {
                    Ok(doc) => doc,
                    Err(reason) => {
                        early.push((None, at, reason));
                        continue;
                    }
                };
                match mapping::image(&doc) {
                    Ok(image) => match owners.get(&image.user_id) {
                        Some(owner) => {
                            let mut latest = latest.borrow_mut();
                            if image.changed_at > *latest {
                                latest.clone_from(&image.changed_at);
                            }
                            if checkpoint.as_ref().is_some_and(|at| image.changed_at < *at)
                                && !fresh.contains(&image.user_id)
                            {
                                unchanged.set(unchanged.get() + 1);
                                continue;
                            }
                            return Some((image, owner.clone()));
                        }
                        None => early.push((
                            Some(image.id),
                            at,
                            format!(
                                "its owner {} is not among the migrated users",
                                image.user_id
                            ),
                        )),
                    },
                    Err(reject) => early.push((mapping::id_of(&doc), at, reject.0)),
                }
            }
        });
        let shared = Arc::clone(&self.ctx);
        let mut outcomes = futures::stream::iter(chunks(mapped, IMAGES_PER_CHUNK))
            .map(|chunk| {
                let ctx = Arc::clone(&shared);
                async move { migrate_images(&ctx, chunk).await }
            })
            .buffer_unordered(self.parallel);
        while let Some(result) = outcomes.next().await {
            let chunk = result?;
            let rejected: Vec<_> = early.borrow_mut().drain(..).collect();
            self.report.collection("images").rejected += rejected.len() as u64;
            for (id, at, reason) in rejected {
                self.rejects
                    .rejected("images", id.as_deref(), at, &reason)?;
            }
            {
                let n = chunk.len() as u64;
                for outcome in chunk {
                    let report = self.report.collection("images");
                    match outcome {
                        ImageOutcome::Skipped => report.skipped += 1,
                        ImageOutcome::Deleted => *report.deleted.get_or_insert(0) += 1,
                        ImageOutcome::Written { copied } => {
                            report.written += 1;
                            if copied {
                                *report.files_copied.get_or_insert(0) += 1;
                            }
                        }
                        ImageOutcome::Unavailable { id, reason } => {
                            report.written += 1;
                            *report.files_missing.get_or_insert(0) += 1;
                            self.rejects.unavailable("images", &id, &reason)?;
                        }
                    }
                }
                self.tick(n);
            }
        }
        drop(outcomes);
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        self.latest = latest.into_inner();
        let report = self.report.collection("images");
        report.read += read.get();
        report.skipped += unchanged.get();
        let rejected = early.into_inner();
        report.rejected += rejected.len() as u64;
        for (id, at, reason) in rejected {
            self.rejects
                .rejected("images", id.as_deref(), at, &reason)?;
        }
        Ok(())
    }
}

/// Groups an iterator into vectors of `size`, lazily.
fn chunks<T>(iter: impl Iterator<Item = T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut iter = iter.fuse();
    std::iter::from_fn(move || {
        let chunk: Vec<T> = iter.by_ref().take(size).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("item is set"),
        )
        .build()
}

fn delete(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .expect("key is set"),
        )
        .build()
}

fn ledger_item(legacy: &str, user_id: &str, email: &str, fingerprint: &str) -> Item {
    Item::from([
        (
            keys::USER_ID.to_owned(),
            AttributeValue::S(keys::ledger_key(legacy)),
        ),
        (
            keys::NEW_USER_ID.to_owned(),
            AttributeValue::S(user_id.to_owned()),
        ),
        (keys::EMAIL.to_owned(), AttributeValue::S(email.to_owned())),
        (
            keys::FINGERPRINT.to_owned(),
            AttributeValue::S(fingerprint.to_owned()),
        ),
    ])
}

async fn migrate_users(
    ctx: &Context,
    known: &HashMap<String, (String, String)>,
    emails: &HashMap<String, String>,
    chunk: Vec<LegacyUser>,
) -> Result<Vec<UserOutcome>> {
    // What each user needs: nothing (unchanged since the last run), their profile rewritten
    // (the account exists: a changed e-mail does not move it), or an account made.
    let writing = ctx.target.as_ref().filter(|_| !ctx.dry_run);
    let mut existing = Vec::new();
    let mut new_accounts = Vec::new();
    let mut outcomes = Vec::with_capacity(chunk.len());
    for user in chunk {
        let fingerprint = user.fingerprint();
        if known
            .get(&user.id)
            .is_some_and(|(_, fp)| *fp == fingerprint)
        {
            outcomes.push(UserOutcome::Skipped);
            continue;
        }
        let account = match writing {
            Some(_) => known
                .get(&user.id)
                .map(|(id, _)| id)
                .or_else(|| emails.get(&user.email))
                .map(|user_id| target::Account {
                    user_id: user_id.clone(),
                    migrated: true,
                }),
            None => Some(target::Account {
                user_id: format!("(new id for {})", user.id),
                migrated: true,
            }),
        };
        match account {
            Some(account) => existing.push((user, fingerprint, account)),
            None => new_accounts.push((user, fingerprint)),
        }
    }
    let mut made = Vec::new();
    if let (Some(target), false) = (writing, new_accounts.is_empty()) {
        let addresses: Vec<&str> = new_accounts.iter().map(|(u, _)| u.email.as_str()).collect();
        let begun = target.begin_accounts(&addresses).await?;
        let work = new_accounts.into_iter().map(|(user, fingerprint)| {
            let begun_before = begun.contains(&user.email);
            async move {
                let account = target.make_account(&user.email, begun_before).await?;
                ctx.worked_on();
                Ok::<_, anyhow::Error>((user, fingerprint, account))
            }
        });
        made = futures::future::try_join_all(work).await?;
    }

    let marks: Vec<Item> = made
        .iter()
        .map(|(user, _, _)| keys::pending_account_key(&user.email))
        .collect();
    let mut items = Vec::new();
    for (user, fingerprint, account) in existing.into_iter().chain(made) {
        if account.migrated {
            let profile = UserProfile {
                user_id: account.user_id.clone(),
                email: Some(user.email.clone()),
                display_name: user.display_name.clone(),
                preferred_language: user.language.clone(),
                location_consent: false,
                created_at: user.created_at.clone(),
                updated_at: user.updated_at.clone(),
            };
            let item = serde_dynamo::to_item(&profile).context("encoding a profile")?;
            items.push(put(target::with_attributes(
                item,
                &[
                    (keys::LEGACY_ID, user.id.as_str()),
                    (keys::FINGERPRINT, fingerprint.as_str()),
                ],
            )));
        }
        // The ledger item after the profile: it is what makes a rerun skip this user.
        items.push(put(ledger_item(
            &user.id,
            &account.user_id,
            &user.email,
            &fingerprint,
        )));
        outcomes.push(UserOutcome::Written {
            legacy: user.id,
            user_id: account.user_id,
            email: user.email,
            fingerprint,
        });
    }
    // The marks last: an account whose ledger item is not written yet keeps its mark.
    items.extend(marks.into_iter().map(delete));
    if let Some(target) = writing {
        target.batch_write(&target.users_table, items).await?;
    }
    Ok(outcomes)
}

async fn migrate_images(
    ctx: &Context,
    chunk: Vec<(LegacyImage, String)>,
) -> Result<Vec<ImageOutcome>> {
    // A second document with the same _id in one chunk would make the batch calls fail.
    let mut seen = HashSet::new();
    let mut outcomes = Vec::new();
    let chunk: Vec<_> = chunk
        .into_iter()
        .filter(|(image, _)| {
            let first = seen.insert(image.id.clone());
            if !first {
                outcomes.push(ImageOutcome::Skipped);
            }
            first
        })
        .collect();
    let existing: HashMap<String, Item> = match &ctx.target {
        Some(target) => {
            let keys = chunk
                .iter()
                .map(|(image, _)| keys::image_key(&keys::image_id(&image.id), &image.created_at))
                .collect::<Vec<_>>();
            target
                .batch_get(&target.images_table, keys)
                .await?
                .into_iter()
                .filter_map(|item| Some((keys::string(&item, keys::IMAGE_ID)?.to_owned(), item)))
                .collect()
        }
        None => HashMap::new(),
    };
    let uploads = ctx.uploads.as_deref();
    let work = chunk.into_iter().map(|(image, owner)| {
        let found = existing.get(&keys::image_id(&image.id));
        migrate_image(ctx, uploads, image, owner, found)
    });
    let mut requests = Vec::new();
    for result in futures::future::join_all(work).await {
        let (outcome, request) = result?;
        outcomes.push(outcome);
        requests.extend(request);
    }
    if let Some(target) = ctx.target.as_ref().filter(|_| !ctx.dry_run) {
        target.batch_write(&target.images_table, requests).await?;
    }
    Ok(outcomes)
}

/// One image: its objects copied and its record to write, or nothing when it is already there.
async fn migrate_image(
    ctx: &Context,
    uploads: Option<&Path>,
    image: LegacyImage,
    owner: String,
    existing: Option<&Item>,
) -> Result<(ImageOutcome, Option<WriteRequest>)> {
    let image_id = keys::image_id(&image.id);
    let image_key = media_keys::image(&owner, &image_id);
    let thumbnail_key = media_keys::thumbnail(&owner, &image_id);
    let write = !ctx.dry_run && ctx.target.is_some();
    if image.deleted {
        let Some(item) = existing else {
            return Ok((ImageOutcome::Skipped, None));
        };
        if let (Some(target), true) = (&ctx.target, write) {
            target
                .media
                .delete(&[image_key.clone(), thumbnail_key.clone()])
                .await
                .with_context(|| format!("deleting {image_key} and its thumbnail"))?;
        }
        let created_at = keys::string(item, keys::CREATED_AT).unwrap_or(image.created_at.as_str());
        return Ok((
            ImageOutcome::Deleted,
            Some(delete(keys::image_key(&image_id, created_at))),
        ));
    }
    let file = match (&image.image_path, uploads) {
        (Some(path), Some(uploads)) => Some(uploads.join(path)),
        _ => None,
    };
    let file_len = match &file {
        Some(path) => std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len()),
        None => None,
    };
    let fingerprint = image.fingerprint(&owner, file_len);
    if existing
        .is_some_and(|item| keys::string(item, keys::FINGERPRINT) == Some(fingerprint.as_str()))
    {
        return Ok((ImageOutcome::Skipped, None));
    }
    let mut record = ImageRecord {
        image_id: image_id.clone(),
        created_at: image.created_at.clone(),
        user_id: owner.clone(),
        image_key: image_key.clone(),
        thumbnail_key: None,
        transcript: image.transcript.clone(),
        prompt: image.prompt.clone(),
        weather: image.weather.clone(),
        location: None,
        job_id: None,
        width: None,
        height: None,
        bytes: None,
        dominant_color: None,
        offline: false,
        unavailable: false,
    };
    let mut unavailable = image.missing.clone();
    let mut copied = false;
    match (file, file_len) {
        (Some(path), Some(_)) => {
            let shown = path.display().to_string();
            let made = tokio::task::spawn_blocking(move || {
                let bytes = std::fs::read(&path)?;
                let thumbnail = image_processor::thumbnail::make(&bytes);
                Ok::<_, std::io::Error>((bytes, thumbnail))
            })
            .await
            .context("the thumbnail task failed")?;
            match made {
                Ok((bytes, Ok(thumbnail))) => {
                    record.thumbnail_key = Some(thumbnail_key.clone());
                    record.width = Some(thumbnail.width);
                    record.height = Some(thumbnail.height);
                    record.bytes = Some(bytes.len() as u64);
                    record.dominant_color = Some(thumbnail.dominant_color);
                    if let (Some(target), true) = (&ctx.target, write) {
                        target
                            .media
                            .put(&image_key, bytes, "image/png")
                            .await
                            .with_context(|| format!("writing {image_key}"))?;
                        target
                            .media
                            .put(&thumbnail_key, thumbnail.jpeg, "image/jpeg")
                            .await
                            .with_context(|| format!("writing {thumbnail_key}"))?;
                        ctx.worked_on();
                    }
                    copied = true;
                }
                Ok((_, Err(e))) => unavailable = Some(format!("{shown}: {e}")),
                Err(e) => unavailable = Some(format!("cannot read {shown}: {e}")),
            }
        }
        (Some(path), None) => {
            unavailable = Some(format!(
                "{} is missing from the uploads folder",
                path.display()
            ));
        }
        (None, _) => {}
    }
    record.unavailable = unavailable.is_some();
    let item = serde_dynamo::to_item(&record).context("encoding an image")?;
    let item = target::with_attributes(
        item,
        &[
            (keys::LEGACY_ID, image.id.as_str()),
            (keys::FINGERPRINT, fingerprint.as_str()),
        ],
    );
    let outcome = match unavailable {
        Some(reason) => ImageOutcome::Unavailable {
            id: image.id,
            reason,
        },
        None => ImageOutcome::Written { copied },
    };
    Ok((outcome, Some(put(item))))
}
