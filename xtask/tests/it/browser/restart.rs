//! `cargo xtask dev` keeps its data when it is killed: twenty pictures started at once, `dev`
//! killed with SIGKILL while some are still being made, started again on the same data folder;
//! every picture that was finished before the kill is in the gallery afterwards, and the user's
//! session still works.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures::future::try_join_all;
use serde_json::{Value, json};

use super::{artifacts_dir, start_dev, unique_email};

const PICTURES: usize = 20;
const PASSWORD: &str = "Mumble-test-2026!";
/// How long the offline providers may take for all of them.
const GENERATION: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_keeps_every_finished_picture_after_sigkill_during_twenty_generations() {
    run().await.unwrap_or_else(|e| panic!("{e:#}"));
}

async fn run() -> Result<()> {
    let artifacts = artifacts_dir().with_file_name("dev-restart-test");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts)?;
    let scratch = tempfile::tempdir()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;

    let mut dev = start_dev(&artifacts, scratch.path()).await?;
    let site = dev.url.clone();
    let token = sign_up(&client, &site).await?;
    let api = Api {
        client: &client,
        base: format!("{site}/api/v1"),
        token: &token,
    };

    let jobs = try_join_all((0..PICTURES).map(|n| api.start_picture(n))).await?;
    // Kill `dev` once some pictures are finished and others are not: mid-request for those.
    let started = Instant::now();
    let finished = loop {
        let mut finished = BTreeMap::new();
        for job in &jobs {
            let state = api.get(&format!("/jobs/{job}")).await?;
            if state["status"] == "done"
                && let Some(image) = state["imageId"].as_str()
            {
                finished.insert(job.clone(), image.to_owned());
            }
        }
        if finished.len() >= PICTURES / 2 || started.elapsed() > GENERATION {
            break finished;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        !finished.is_empty(),
        "no picture was finished within {}s",
        GENERATION.as_secs()
    );
    dev.group.kill_leader();
    eprintln!(
        "killed `cargo xtask dev` with {} of {PICTURES} pictures finished",
        finished.len()
    );
    std::fs::rename(artifacts.join("dev.log"), artifacts.join("dev-killed.log"))?;

    let dev = start_dev(&artifacts, scratch.path())
        .await
        .context("`cargo xtask dev` did not come back after SIGKILL")?;
    let log = std::fs::read_to_string(artifacts.join("dev.log"))?;
    ensure!(
        log.contains("did not stop cleanly"),
        "the new `dev` should say it found the killed one's leftovers; its log:\n{log}"
    );
    ensure!(
        !log.contains("not restored"),
        "nothing should be lost; the log says:\n{log}"
    );
    // The same session: the user is not asked to sign in again.
    let api = Api {
        base: format!("{}/api/v1", dev.url),
        ..api
    };
    let gallery = api.all_images().await?;
    for (job, image) in &finished {
        let Some(item) = gallery.get(image) else {
            bail!(
                "picture {image} (job {job}) was finished before the kill and is missing after the restart; the gallery has {} pictures",
                gallery.len()
            );
        };
        let url = item["imageUrl"].as_str().context("no imageUrl")?;
        let status = client.get(url).send().await?.status();
        ensure!(
            status.is_success(),
            "picture {image}'s file answers {status}"
        );
        let job_state = api.get(&format!("/jobs/{job}")).await?;
        ensure!(
            job_state["status"] == "done",
            "job {job} was done before the kill, now: {job_state}"
        );
    }
    eprintln!(
        "after the restart: {} pictures in the gallery, all {} finished before the kill among them",
        gallery.len(),
        finished.len()
    );
    Ok(())
}

struct Api<'a> {
    client: &'a reqwest::Client,
    base: String,
    token: &'a str,
}

impl Api<'_> {
    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value> {
        let response = request
            .bearer_auth(self.token)
            .send()
            .await
            .with_context(|| format!("{what} did not reach the gateway"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        ensure!(status.is_success(), "{what} answered {status}: {text}");
        serde_json::from_str(&text).with_context(|| format!("{what} answered no JSON: {text}"))
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.send(
            self.client.get(format!("{}{path}", self.base)),
            &format!("GET {path}"),
        )
        .await
    }

    /// Uploads a small recording and starts its picture; the job id.
    async fn start_picture(&self, n: usize) -> Result<String> {
        let audio = vec![0u8; 2048];
        let target = self
            .send(
                self.client
                    .post(format!("{}/audio/upload-url", self.base))
                    .json(&json!({"contentType": "audio/webm", "contentLength": audio.len()})),
                "POST /audio/upload-url",
            )
            .await?;
        let mut put = self
            .client
            .put(target["uploadUrl"].as_str().context("no uploadUrl")?);
        for (name, value) in target["headers"].as_object().into_iter().flatten() {
            if !name.eq_ignore_ascii_case("content-length") {
                put = put.header(name, value.as_str().unwrap_or_default());
            }
        }
        let uploaded = put.body(audio).send().await?.status();
        ensure!(uploaded.is_success(), "the upload answered {uploaded}");
        let job = self
            .send(
                self.client
                    .post(format!("{}/generate", self.base))
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({
                        "audioKey": target["audioKey"],
                        "language": "en",
                        "transcript": format!("picture number {n}"),
                    })),
                "POST /generate",
            )
            .await?;
        job["jobId"].as_str().map(str::to_owned).context("no jobId")
    }

    /// Every picture of the user, by id.
    async fn all_images(&self) -> Result<BTreeMap<String, Value>> {
        let mut images = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .client
                .get(format!("{}/images", self.base))
                .query(&[("limit", "50")]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let page = self.send(request, "GET /images").await?;
            for item in page["items"].as_array().into_iter().flatten() {
                if let Some(id) = item["imageId"].as_str() {
                    images.insert(id.to_owned(), item.clone());
                }
            }
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(images),
            }
        }
    }
}

/// Signs a new user up on the emulator's Cognito, as the site does; their ID token.
async fn sign_up(client: &reqwest::Client, site: &str) -> Result<String> {
    let config: Value = client
        .get(format!("{site}/config.json"))
        .send()
        .await?
        .json()
        .await?;
    let endpoint = config["cognitoEndpoint"]
        .as_str()
        .context("config.json has no cognitoEndpoint")?;
    let client_id = config["userPoolClientId"]
        .as_str()
        .context("config.json has no userPoolClientId")?;
    let email = unique_email("killed");
    let cognito = |target: &str, body: Value| {
        client
            .post(endpoint)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "X-Amz-Target",
                format!("AWSCognitoIdentityProviderService.{target}"),
            )
            .body(body.to_string())
            .send()
    };
    for (target, body) in [
        (
            "SignUp",
            json!({"ClientId": client_id, "Username": email, "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": email}]}),
        ),
        (
            "ConfirmSignUp",
            json!({"ClientId": client_id, "Username": email, "ConfirmationCode": "123456"}),
        ),
    ] {
        let status = cognito(target, body).await?.status();
        ensure!(status.is_success(), "cognito {target} answered {status}");
    }
    let auth: Value = cognito(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
               "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}}),
    )
    .await?
    .json()
    .await?;
    auth["AuthenticationResult"]["IdToken"]
        .as_str()
        .map(str::to_owned)
        .context("no IdToken")
}
