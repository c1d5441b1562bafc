//! Mumble in a real browser: `cargo xtask dev` as a user starts it, driven in headless Chromium
//! with a fake microphone, from sign-up to deleting the picture, with a second user who must not
//! see the first one's pictures.
//!
//! Screenshots of every main step are kept in `target/browser-test/`, with the logs of
//! `cargo xtask dev` and chromedriver.

mod driver;
mod processes;
mod wav;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use driver::Browser;
use processes::Group;

/// The first run deploys the local stage to the emulator and compiles the local gateway.
const DEV_READY: Duration = Duration::from_secs(15 * 60);
/// A page change, a Cognito call, an API call.
const UI: Duration = Duration::from_secs(20);
/// Upload, then the whole job with the offline providers.
const GENERATION: Duration = Duration::from_secs(60);
/// How long the user speaks.
const SPEAKING: Duration = Duration::from_millis(3500);

/// A password Cognito's policy for the stage accepts (upper, lower, digit, symbol, 8+).
const PASSWORD: &str = "Mumble-test-2026!";
/// The words of the recording. The offline providers cannot listen: the user types them.
const WORDS: &str = "雨后的港口，一只红色的风筝";
/// Every state a job without a location passes through (the weather step needs a location).
const JOB_STATES: [&str; 6] = [
    "queued",
    "transcribing",
    "prompting",
    "generating",
    "storing",
    "done",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_records_a_mumble_sees_the_picture_and_deletes_it_and_others_never_see_it() {
    // Before the minutes `cargo xtask dev` may take on a first run.
    driver::check_installed().unwrap_or_else(|e| panic!("{e:#}"));
    let artifacts = artifacts_dir();
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).expect("create target/browser-test");
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let microphone = scratch.path().join("microphone.wav");
    std::fs::write(&microphone, wav::speech_like(4.0)).expect("write the microphone's WAV");

    let mut dev = start_dev(&artifacts, scratch.path())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let site = dev.url.clone();
    let mut browser = Browser::start(&microphone, &scratch.path().join("profile"), &artifacts)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    let outcome = scenario(&mut browser, &site).await;
    if let Err(error) = outcome {
        let shot = browser.screenshot("failure").await;
        let _ = dev.group.check_running();
        panic!(
            "{error:#}\n\nthe page at failure: {}\nthe end of `cargo xtask dev`'s log ({}):\n{}",
            shot.map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("(no screenshot: {e:#})")),
            dev.group.log_path().display(),
            dev.group.log_tail()
        );
    }
    browser.close().await.expect("end the browser session");
    eprintln!("screenshots in {}", artifacts.display());
    assert_api_kept_its_contract(&artifacts);
}

async fn scenario(browser: &mut Browser, site: &str) -> Result<()> {
    let first = unique_email("first");
    let second = unique_email("second");

    browser.goto(site).await?;
    browser
        .wait_shown("the sign-in form", UI, "signin-form")
        .await?;
    browser.screenshot("signed-out").await?;
    sign_up(browser, &first).await?;
    save_and_reload_profile(browser).await?;

    let image_id = record_and_generate(browser).await?;
    sign_out(browser).await?;

    // Another account sees an empty gallery while the first user's picture exists.
    sign_up(browser, &second).await?;
    browser.click("nav-gallery").await?;
    browser
        .wait_for(
            "the second user's empty gallery",
            UI,
            "shown('gallery-empty') && all('gallery-item').length === 0",
        )
        .await?;
    browser.screenshot("second-user-gallery-empty").await?;
    sign_out(browser).await?;

    sign_in(browser, &first).await?;
    browser.click("nav-gallery").await?;
    open_and_delete(browser, &image_id).await?;

    // Deleted on the server, not only on the page; and the session survives the reload.
    browser.reload().await?;
    browser
        .wait_for(
            "the empty gallery after a reload",
            UI,
            "shown('view-gallery') && shown('gallery-empty') && all('gallery-item').length === 0",
        )
        .await?;
    sign_out(browser).await?;
    browser.screenshot("signed-out-again").await?;
    Ok(())
}

/// Sign-up, then the confirmation step; the site signs the new user in by itself.
async fn sign_up(browser: &mut Browser, email: &str) -> Result<()> {
    browser.click("show-signup").await?;
    browser
        .wait_shown("the sign-up form", UI, "signup-form")
        .await?;
    browser.type_into("signup-email", email).await?;
    browser.type_into("signup-password", PASSWORD).await?;
    browser.screenshot("sign-up").await?;
    browser.click("signup-submit").await?;
    browser
        .wait_shown(
            "the confirmation-code step after signing up",
            UI,
            "confirm-form",
        )
        .await?;
    let prefilled = browser
        .eval("q('confirm-email').value")
        .await?
        .as_str()
        .map(str::to_owned);
    ensure!(
        prefilled.as_deref() == Some(email),
        "the confirmation step should be for {email}, shows {prefilled:?}"
    );
    browser.screenshot("confirm-code").await?;
    // The emulator sends no e-mail and, as moto's ConfirmSignUp does, accepts any code: the
    // user types one in the form, and the site's ConfirmSignUp call to Cognito's API confirms.
    browser.type_into("confirm-code", "123456").await?;
    browser.click("confirm-submit").await?;
    wait_signed_in(browser, email).await
}

async fn sign_in(browser: &mut Browser, email: &str) -> Result<()> {
    browser
        .wait_shown("the sign-in form", UI, "signin-form")
        .await?;
    browser.type_into("signin-email", email).await?;
    browser.type_into("signin-password", PASSWORD).await?;
    browser.click("signin-submit").await?;
    wait_signed_in(browser, email).await
}

async fn wait_signed_in(browser: &mut Browser, email: &str) -> Result<()> {
    browser
        .wait_for(
            &format!("the signed-in page for {email}"),
            UI,
            "shown('signout-button') && shown('nav-gallery') && text('user-name') !== ''",
        )
        .await?;
    // Whose account it is: the profile shows the signed-in email.
    browser.click("nav-profile").await?;
    browser
        .wait_for(
            &format!("the profile of {email}"),
            UI,
            &format!(
                "shown('view-profile') && q('profile-email').value === {}",
                serde_json::to_string(email)?
            ),
        )
        .await?;
    browser.screenshot("signed-in").await?;
    Ok(())
}

async fn sign_out(browser: &mut Browser) -> Result<()> {
    browser.click("signout-button").await?;
    browser
        .wait_for(
            "the sign-in form after signing out",
            UI,
            "shown('signin-form') && !shown('signout-button') && !shown('nav-gallery')",
        )
        .await?;
    Ok(())
}

/// Records with the fake microphone, sends, follows the job to the finished picture and finds
/// it in the gallery; returns its image id.
async fn record_and_generate(browser: &mut Browser) -> Result<String> {
    browser.click("nav-record").await?;
    browser
        .wait_shown("the record view", UI, "record-button")
        .await?;
    browser.click("record-button").await?;
    browser
        .wait_for(
            "the recording (record button in state `recording`)",
            UI,
            "q('record-button').dataset.state === 'recording'",
        )
        .await?;
    tokio::time::sleep(SPEAKING).await;
    browser.screenshot("recording").await?;
    browser.click("record-button").await?;
    browser
        .wait_for(
            "the recording to listen to, and an enabled send button",
            UI,
            "q('record-button').dataset.state === 'idle' && shown('review') \
             && q('playback').src.startsWith('blob:') && !q('send-button').disabled",
        )
        .await?;

    browser
        .wait_shown(
            "the field for the words of the recording (shown when config.json says the providers are offline)",
            UI,
            "offline-transcript",
        )
        .await?;
    browser.type_into("offline-transcript", WORDS).await?;
    browser.screenshot("recorded").await?;
    browser.click("send-button").await?;

    let status = browser
        .wait_for(
            "the end of the job (job-status `done` or `failed`)",
            GENERATION,
            "['done', 'failed'].includes(q('job-status').dataset.status) && q('job-status').dataset.status",
        )
        .await?;
    browser.screenshot("job-finished").await?;
    if status != "done" {
        bail!(
            "the job failed; the page says: {} / {}",
            browser.text("job-error").await?,
            browser.text("error-message").await?
        );
    }
    let seen = browser.eval("q('job-status').dataset.seen").await?;
    let seen: Vec<&str> = seen.as_str().unwrap_or_default().split(' ').collect();
    for state in JOB_STATES {
        ensure!(
            seen.contains(&state),
            "the progress never showed `{state}` (it showed: {seen:?})"
        );
    }
    ensure!(
        !seen.contains(&"weather"),
        "without a location there is no weather step, yet the progress showed it ({seen:?})"
    );
    let steps = browser
        .eval(
            "[...q('job-steps').querySelectorAll('li')].every((li) => li.dataset.state === 'done')",
        )
        .await?;
    ensure!(
        steps == true,
        "every step should be ticked off once the job is done"
    );
    let upload = browser.eval("q('upload-progress').value").await?;
    ensure!(
        upload == 100,
        "the upload should end at 100%, shows {upload}"
    );
    let channel = browser.eval("q('job-channel').dataset.channel").await?;
    ensure!(
        channel == "live",
        "the progress should come live over the WebSocket, it came by `{channel}`"
    );

    browser
        .wait_for(
            "the finished picture",
            UI,
            "shown('result') && loaded(q('result-image'))",
        )
        .await?;
    let transcript = browser.text("result-transcript").await?;
    ensure!(
        transcript == WORDS,
        "the result should show the words {WORDS:?}, shows {transcript:?}"
    );
    browser.screenshot("result").await?;

    browser.click("result-gallery-link").await?;
    let id = browser
        .wait_for(
            "the new picture in the gallery",
            UI,
            "shown('view-gallery') && all('gallery-item').length === 1 \
             && loaded(q('gallery-thumb')) && q('gallery-item').dataset.imageId",
        )
        .await?;
    browser.screenshot("gallery").await?;
    id.as_str()
        .map(str::to_owned)
        .context("the gallery item has no image id")
}

/// Opens the picture's detail view, checks what it shows, and deletes it with confirmation.
async fn open_and_delete(browser: &mut Browser, image_id: &str) -> Result<()> {
    let item = format!(
        "all('gallery-item').find((e) => e.dataset.imageId === {})",
        serde_json::to_string(image_id)?
    );
    browser
        .wait_for(
            "the first user's picture in the gallery after signing in again",
            UI,
            &format!("shown('view-gallery') && !!({item}) && loaded(q('gallery-thumb'))"),
        )
        .await?;
    browser.click("gallery-item").await?;
    browser
        .wait_for(
            "the detail view with the full picture",
            UI,
            "q('image-dialog').open && loaded(q('detail-image')) && text('detail-date') !== ''",
        )
        .await?;
    let transcript = browser.text("detail-transcript").await?;
    ensure!(
        transcript == WORDS,
        "the detail view should show the words {WORDS:?}, shows {transcript:?}"
    );
    let prompt = browser.text("detail-prompt").await?;
    ensure!(
        prompt.contains(WORDS),
        "the picture's description should quote the words, it is {prompt:?}"
    );
    browser.screenshot("detail").await?;

    browser.click("detail-delete").await?;
    browser
        .wait_for("the delete confirmation", UI, "q('confirm-dialog').open")
        .await?;
    browser.screenshot("confirm-delete").await?;
    browser.click("confirm-delete").await?;
    browser
        .wait_for(
            "the gallery without the deleted picture",
            UI,
            "!q('confirm-dialog').open && !q('image-dialog').open \
             && all('gallery-item').length === 0 && shown('gallery-empty')",
        )
        .await?;
    browser.screenshot("deleted").await?;
    Ok(())
}

/// `cargo xtask dev` as a user runs it, on a free port.
struct Dev {
    group: Group,
    url: String,
}

async fn start_dev(artifacts: &Path, scratch: &Path) -> Result<Dev> {
    // dev runs itself again (for deploy and outputs) through its own path; a private copy keeps a
    // cargo build elsewhere in the same target dir from replacing that file while the test runs.
    let xtask = scratch.join("xtask");
    std::fs::copy(env!("CARGO_BIN_EXE_xtask"), &xtask).context("cannot copy the xtask binary")?;
    let port = processes::free_port();
    // Its own emulator port and data folder, so the test neither meets a developer's running
    // `cargo xtask dev` nor replays (or adds to) their saved data.
    let emulator_port = processes::free_port();
    let data_dir = scratch.join("data");
    let mut command = Command::new(&xtask);
    command
        .args(["dev", "--port", &port.to_string()])
        .args(["--emulator-port", &emulator_port.to_string()])
        .arg("--data-dir")
        .arg(&data_dir)
        .current_dir(workspace_root());
    // dev starts its own emulator; the harness's must not leak in. Without provider keys it
    // uses the offline providers, whose behaviour this test expects.
    for name in ["AWS_ENDPOINT_URL", "OPENAI_API_KEY", "OPENWEATHER_API_KEY"] {
        command.env_remove(name);
    }
    // Every API request and response is checked against the OpenAPI document.
    command.env("MUMBLE_CHECK_OPENAPI", openapi_violations(artifacts));
    let mut group = Group::spawn("cargo xtask dev", command, &artifacts.join("dev.log"))?;
    let url = format!("http://127.0.0.1:{port}");
    processes::wait_for_http(&mut group, &format!("{url}/api/v1/health"), DEV_READY)
        .await
        .context("`cargo xtask dev` did not come up")?;
    Ok(Dev { group, url })
}

fn unique_email(who: &str) -> String {
    format!("{who}-{}@example.com", uuid::Uuid::new_v4().simple())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_owned()
}

fn artifacts_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("browser-test")
}

// ---------------------------------------------------------------------------------------------
// The profile and the API's contract: the site saves with the API's field names and reads them
// back, and no request or response of the whole scenario strays from the OpenAPI document.

/// The profile as the user changes it: a new display name and the other language, saved, then
/// read back from the API after a reload; the language is set back afterwards.
async fn save_and_reload_profile(browser: &mut Browser) -> Result<()> {
    const NAME: &str = "小明 the tester";
    browser.click("nav-profile").await?;
    browser
        .wait_for(
            "the loaded profile",
            UI,
            "shown('view-profile') && q('profile-display-name').value !== ''",
        )
        .await?;
    let before = browser.eval("q('profile-language').value").await?;
    let before = before.as_str().unwrap_or("zh").to_owned();
    let other = if before == "en" { "zh" } else { "en" };

    browser.type_into("profile-display-name", NAME).await?;
    save_profile(browser, other).await?;

    browser.reload().await?;
    browser.click("nav-profile").await?;
    browser
        .wait_for(
            "the saved profile after a reload",
            UI,
            &format!(
                "shown('view-profile') && q('profile-display-name').value === {} \
                 && q('profile-language').value === '{other}' && text('user-name') === {}",
                serde_json::to_string(NAME)?,
                serde_json::to_string(NAME)?
            ),
        )
        .await?;
    browser.screenshot("profile-saved").await?;
    save_profile(browser, &before).await
}

/// Chooses `language` in the profile form and saves; fails with the page's error if any.
async fn save_profile(browser: &mut Browser, language: &str) -> Result<()> {
    browser
        .eval(&format!(
            "(() => {{ const s = q('profile-language'); s.value = '{language}'; \
             s.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()"
        ))
        .await?;
    browser
        .eval("(q('profile-status').textContent = '', true)")
        .await?;
    browser.click("profile-save").await?;
    browser
        .wait_for(
            "the profile saved or refused",
            UI,
            "text('profile-status') !== '' || text('profile-error') !== ''",
        )
        .await?;
    let error = browser.text("profile-error").await?;
    ensure!(error.is_empty(), "saving the profile failed: {error}");
    Ok(())
}

/// Where the local gateway writes each request or response that does not match the document.
fn openapi_violations(artifacts: &Path) -> PathBuf {
    artifacts.join("openapi-violations.txt")
}

fn assert_api_kept_its_contract(artifacts: &Path) {
    let path = openapi_violations(artifacts);
    let violations = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        violations.trim().is_empty(),
        "the site or a function strayed from the OpenAPI document ({}):\n{violations}",
        path.display()
    );
}
