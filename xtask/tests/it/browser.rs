//! Mumble in a real browser: `cargo xtask dev` as a user starts it, driven in headless Chromium
//! with a fake microphone at a laptop's and a phone's size: sign-up (and sending the code again),
//! a picture made with the mouse and a shared location whose weather a local OpenWeather gives,
//! the description and the picture's actions, a forgotten password, a second user who works in
//! Chinese with the keyboard alone, without a location and then where the weather service fails,
//! and never sees the first one's pictures, and deleting. Before them, an account moved from the
//! old Mumble by `cargo xtask migrate` signs in through "Mumble has moved: set a new password" and
//! finds its old pictures, including one whose file was lost.
//!
//! Screenshots of every main state at both sizes are kept in `target/browser-test/`, with the
//! logs of `cargo xtask dev` and chromedriver.
//!
//! One file over 500 lines: the scenario is one user's session, and its steps share the browser,
//! the page helpers and the expected texts (the driver, processes and fakes are modules beside it).

mod driver;
mod processes;
mod restart;
mod wav;
mod weather;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use fantoccini::key::Key;
use serde_json::{Value, json};

use driver::{Browser, SIZES};
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
/// The first user's password after the reset.
const NEW_PASSWORD: &str = "Mumble-reset-2026?";
/// Long enough for the page's own check, too weak for the stage's policy.
const WEAK_PASSWORD: &str = "password1";
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
/// Text written for the image model that must never be shown as the picture's description.
const MODEL_INSTRUCTIONS: [&str; 3] = [
    "not instructions to you",
    "Do not draw any text",
    "let it shape the light",
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
    migrate_old_mumble(&dev, scratch.path()).unwrap_or_else(|e| panic!("{e:#}"));
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

/// What the browser says about where the user is, and so what the weather texts must say.
#[derive(Clone, Copy, PartialEq)]
enum Location {
    /// No location shared: "No location was shared".
    None,
    /// Near Shanghai, where the weather service answers: its weather on the picture.
    Weather,
    /// Where the weather service fails: "Weather not available right now".
    WeatherFails,
}

/// How the user works the recorder.
#[derive(Clone, Copy, PartialEq)]
enum Hands {
    Mouse,
    Keyboard,
}

async fn scenario(browser: &mut Browser, site: &str) -> Result<()> {
    let first = unique_email("first");
    let second = unique_email("second");

    browser.goto(site).await?;
    browser
        .wait_shown("the sign-in form", UI, "signin-form")
        .await?;
    browser.screenshots("signed-out").await?;
    moved_account_resets_and_finds_its_pictures(browser).await?;
    sign_up(browser, &first, true).await?;
    save_and_reload_profile(browser).await?;
    let first_image = record_and_generate(browser, Hands::Mouse, Location::Weather).await?;
    check_detail(browser, &first_image).await?;
    sign_out(browser).await?;

    reset_password(browser, &first).await?;
    sign_out_while_the_microphone_is_asked_for(browser).await?;

    // The second user works in Chinese, with the keyboard alone.
    set_language(browser, "zh").await?;
    weak_password_is_refused_in_mumbles_words(browser, &second).await?;
    sign_up(browser, &second, false).await?;
    browser.click("nav-gallery").await?;
    browser
        .wait_for(
            "the second user's empty gallery while the first user's picture exists",
            UI,
            "shown('gallery-empty') && all('gallery-item').length === 0",
        )
        .await?;
    browser.screenshots("second-user-gallery-empty").await?;
    let second_image = record_and_generate(browser, Hands::Keyboard, Location::None).await?;
    ensure!(
        second_image != first_image,
        "the second user's gallery shows the first user's picture"
    );
    check_chinese(browser).await?;
    open_and_delete(browser, &second_image).await?;
    let third_image = record_and_generate(browser, Hands::Mouse, Location::WeatherFails).await?;
    open_and_delete(browser, &third_image).await?;
    sign_out(browser).await?;
    set_language(browser, "en").await?;

    sign_in(browser, &first, NEW_PASSWORD).await?;
    browser.click("nav-gallery").await?;
    open_and_delete(browser, &first_image).await?;

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
    browser.screenshots("signed-out-again").await?;
    Ok(())
}

/// The page's own text for `key` in its current language (from the site's `i18n.js`).
async fn tr(browser: &Browser, key: &str, params: Value) -> Result<String> {
    let value = browser
        .eval(&format!(
            "import('/assets/js/i18n.js').then((m) => m.t({}, {params}))",
            serde_json::to_string(key)?
        ))
        .await?;
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no text for {key}"))
}

async fn set_language(browser: &mut Browser, language: &str) -> Result<()> {
    browser
        .eval(&format!(
            "(() => {{ const s = q('lang-select'); s.value = '{language}'; \
             s.dispatchEvent(new Event('change')); return true; }})()"
        ))
        .await?;
    let tag = if language == "zh" { "zh-CN" } else { "en" };
    browser
        .wait_for(
            &format!("the page in {language}"),
            UI,
            &format!("document.documentElement.lang === '{tag}'"),
        )
        .await?;
    Ok(())
}

/// Sign-up, then the confirmation step (optionally asking for the code again); the site signs
/// the new user in by itself.
async fn sign_up(browser: &mut Browser, email: &str, resend: bool) -> Result<()> {
    if !browser
        .eval("shown('signup-form')")
        .await?
        .as_bool()
        .unwrap_or(false)
    {
        browser.click("show-signup").await?;
    }
    browser
        .wait_shown("the sign-up form", UI, "signup-form")
        .await?;
    browser.type_into("signup-email", email).await?;
    browser.type_into("signup-password", PASSWORD).await?;
    browser.screenshots("sign-up").await?;
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
    if resend {
        browser.click("resend-code").await?;
        let sent = tr(browser, "auth.codeResent", json!({ "email": email })).await?;
        browser
            .wait_for(
                "the note that the code was sent again",
                UI,
                &format!(
                    "text('confirm-intro') === {} && text('confirm-error') === ''",
                    serde_json::to_string(&sent)?
                ),
            )
            .await
            .context("\"Send the code again\" failed")?;
    }
    browser.screenshots("confirm-code").await?;
    // The emulator sends no e-mail and, as moto's ConfirmSignUp does, accepts any code: the
    // user types one in the form, and the site's ConfirmSignUp call to Cognito's API confirms.
    browser.type_into("confirm-code", "123456").await?;
    browser.click("confirm-submit").await?;
    wait_signed_in(browser, email).await
}

/// A password the stage's policy refuses: the reason is shown under the password field, in the
/// page's language and Mumble's words (not the sign-in service's).
async fn weak_password_is_refused_in_mumbles_words(
    browser: &mut Browser,
    email: &str,
) -> Result<()> {
    browser.click("show-signup").await?;
    browser
        .wait_shown("the sign-up form", UI, "signup-form")
        .await?;
    browser.type_into("signup-email", email).await?;
    browser.type_into("signup-password", WEAK_PASSWORD).await?;
    browser.click("signup-submit").await?;
    let wanted = tr(browser, "auth.error.InvalidPasswordException", json!({})).await?;
    browser
        .wait_for(
            "the weak-password message under the password field",
            UI,
            &format!(
                "text('signup-password-error') === {} && text('signup-error') === '' \
                 && q('signup-password').getAttribute('aria-invalid') === 'true'",
                serde_json::to_string(&wanted)?
            ),
        )
        .await?;
    ensure!(
        has_chinese(&wanted),
        "the message should be in Chinese: {wanted}"
    );
    browser.screenshots("weak-password").await?;
    Ok(())
}

async fn sign_in(browser: &mut Browser, email: &str, password: &str) -> Result<()> {
    browser
        .wait_shown("the sign-in form", UI, "signin-form")
        .await?;
    browser.type_into("signin-email", email).await?;
    browser.type_into("signin-password", password).await?;
    browser.click("signin-submit").await?;
    wait_signed_in(browser, email).await
}

/// "Forgot your password?": a code by e-mail (asked for twice), a new password, signed in.
async fn reset_password(browser: &mut Browser, email: &str) -> Result<()> {
    browser.click("show-forgot").await?;
    browser
        .wait_shown("the forgotten-password form", UI, "forgot-form")
        .await?;
    browser.type_into("forgot-email", email).await?;
    browser.screenshots("forgot-password").await?;
    browser.click("forgot-submit").await?;
    browser
        .wait_for(
            "the new-password form",
            UI,
            &format!(
                "shown('reset-form') && q('reset-email').value === {}",
                serde_json::to_string(email)?
            ),
        )
        .await?;
    browser.click("reset-resend").await?;
    let sent = tr(browser, "auth.codeResent", json!({ "email": email })).await?;
    browser
        .wait_for(
            "the note that the reset code was sent again",
            UI,
            &format!(
                "text('reset-intro') === {} && text('reset-error') === ''",
                serde_json::to_string(&sent)?
            ),
        )
        .await?;
    browser.type_into("reset-code", "123456").await?;
    browser.type_into("reset-password", NEW_PASSWORD).await?;
    browser.screenshots("reset-password").await?;
    browser.click("reset-submit").await?;
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

/// Signing out while the browser still asks for the microphone: when its answer comes, the page
/// lets the microphone go at once and records nothing.
async fn sign_out_while_the_microphone_is_asked_for(browser: &mut Browser) -> Result<()> {
    browser.click("nav-record").await?;
    browser
        .wait_shown("the record view", UI, "record-button")
        .await?;
    // The browser's answer is held back until the page has signed out.
    browser
        .eval(
            "(() => { const media = navigator.mediaDevices; \
               const real = media.getUserMedia.bind(media); \
               window.micTracks = []; window.answerMic = null; \
               media.getUserMedia = (constraints) => new Promise((resolve, reject) => { \
                 window.answerMic = () => real(constraints).then((stream) => { \
                   window.micTracks.push(...stream.getTracks()); resolve(stream); }, reject); }); \
               return true; })()",
        )
        .await?;
    browser.click("record-button").await?;
    browser
        .wait_for(
            "the page asking for the microphone",
            UI,
            "window.answerMic !== null",
        )
        .await?;
    sign_out(browser).await?;
    browser
        .eval("(window.answerMic(), delete navigator.mediaDevices.getUserMedia, true)")
        .await?;
    browser
        .wait_for(
            "the microphone let go when the late answer came, and nothing recording",
            UI,
            "window.micTracks.length > 0 \
             && window.micTracks.every((track) => track.readyState === 'ended') \
             && q('record-button').dataset.state === 'idle'",
        )
        .await?;
    Ok(())
}

/// Records with the fake microphone (by mouse, or by keyboard alone with the focus kept on the
/// record button), sends, follows the job to the finished picture and finds it in the gallery;
/// returns its image id. The weather texts say what happened at `location`.
async fn record_and_generate(
    browser: &mut Browser,
    hands: Hands,
    location: Location,
) -> Result<String> {
    browser.click("nav-record").await?;
    browser
        .wait_shown("the record view", UI, "record-button")
        .await?;
    if location != Location::None {
        // Headless Chromium has no position to give: the page gets a fixed one.
        let (latitude, longitude) = if location == Location::Weather {
            weather::SHANGHAI
        } else {
            weather::FAILING
        };
        browser
            .eval(&format!(
                "(() => {{ navigator.geolocation.getCurrentPosition = (ok) => \
                 ok({{ coords: {{ latitude: {latitude}, longitude: {longitude} }} }}); \
                 if (!q('use-location').checked) q('use-location').click(); return true; }})()"
            ))
            .await?;
        browser
            .wait_for(
                "the location to be ready",
                UI,
                "q('location-status').dataset.state === 'ready'",
            )
            .await?;
    } else {
        // The choice is remembered in the browser: a user who shares no location turns it off.
        browser
            .eval("(() => { if (q('use-location').checked) q('use-location').click(); return true; })()")
            .await?;
    }
    match hands {
        Hands::Mouse => browser.click("record-button").await?,
        Hands::Keyboard => {
            browser.eval("(q('record-button').focus(), true)").await?;
            browser.press(Key::Space).await?;
        }
    }
    browser
        .wait_for(
            "the recording (record button in state `recording`, still focused)",
            UI,
            "q('record-button').dataset.state === 'recording' \
             && document.activeElement === q('record-button')",
        )
        .await?;
    tokio::time::sleep(SPEAKING).await;
    browser.screenshots("recording").await?;
    match hands {
        Hands::Mouse => browser.click("record-button").await?,
        Hands::Keyboard => browser.press(Key::Enter).await?,
    }
    browser
        .wait_for(
            "the recording to listen to, its length, and an enabled send button",
            UI,
            "q('record-button').dataset.state === 'idle' && shown('review') \
             && q('playback').src.startsWith('blob:') && !q('send-button').disabled \
             && /[1-9]/.test(text('playback-length'))",
        )
        .await?;
    if hands == Hands::Keyboard {
        let focused = browser
            .eval("document.activeElement === q('record-button')")
            .await?;
        ensure!(
            focused == true,
            "after stopping with the keyboard, the focus should stay on the record button"
        );
    }

    browser
        .wait_shown(
            "the field for the words of the recording (shown when config.json says the providers are offline)",
            UI,
            "offline-transcript",
        )
        .await?;
    browser.type_into("offline-transcript", WORDS).await?;
    browser.screenshots("recorded").await?;
    match hands {
        Hands::Mouse => browser.click("send-button").await?,
        Hands::Keyboard => {
            browser.eval("(q('send-button').focus(), true)").await?;
            browser.press(Key::Enter).await?;
        }
    }

    let status = browser
        .wait_for(
            "the end of the job (job-status `done` or `failed`)",
            GENERATION,
            "['done', 'failed'].includes(q('job-status').dataset.status) && q('job-status').dataset.status",
        )
        .await?;
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
    match location {
        Location::None => ensure!(
            !seen.contains(&"weather"),
            "without a location there is no weather step, yet the progress showed it ({seen:?})"
        ),
        Location::Weather | Location::WeatherFails => ensure!(
            seen.contains(&"weather"),
            "with a location the progress should show the weather step ({seen:?})"
        ),
    }
    // Every step is ticked off; a weather step that gave nothing says what happened instead.
    let weather_state = if location == Location::Weather {
        "done"
    } else {
        "skipped"
    };
    let steps = browser
        .eval(&format!(
            "[...q('job-steps').querySelectorAll('li')].every((li) => \
             li.dataset.state === (li.dataset.step === 'weather' ? '{weather_state}' : 'done'))"
        ))
        .await?;
    ensure!(
        steps == true,
        "every step should be ticked off once the job is done (the weather step `{weather_state}`)"
    );
    let (step_key, result_key) = match location {
        Location::None => ("job.step.weatherSkipped", "weather.noLocation"),
        Location::Weather => ("job.status.weather", ""),
        Location::WeatherFails => ("job.step.weatherUnavailable", "weather.unavailable"),
    };
    let step_text = browser.text("job-step-weather").await?;
    let wanted = tr(browser, step_key, json!({})).await?;
    ensure!(
        step_text == wanted,
        "the weather step should say {wanted:?}, says {step_text:?}"
    );
    let upload = browser
        .eval("[q('upload-progress').value, shown('upload-row')]")
        .await?;
    ensure!(
        upload == json!([100, false]),
        "the upload should have reached 100% and made way for the job's steps \
         ([value, shown]: {upload})"
    );
    let channel = browser.eval("q('job-channel').dataset.channel").await?;
    ensure!(
        channel == "live",
        "the progress should come live over the WebSocket, it came by `{channel}`"
    );

    browser
        .wait_for(
            "the finished picture, and \"Record another\" instead of the used recording",
            UI,
            "shown('result') && loaded(q('result-image')) && !shown('review') \
             && q('send-button').disabled && shown('new-recording-button')",
        )
        .await?;
    let transcript = browser.text("result-transcript").await?;
    ensure!(
        transcript == WORDS,
        "the result should show the words {WORDS:?}, shows {transcript:?}"
    );
    let weather = browser.text("result-weather").await?;
    let wanted = if location == Location::Weather {
        weather_line()
    } else {
        tr(browser, result_key, json!({})).await?
    };
    ensure!(
        weather == wanted,
        "the result's weather line should say {wanted:?}, says {weather:?}"
    );
    browser.screenshots("result").await?;

    browser.click("result-gallery-link").await?;
    let id = browser
        .wait_for(
            "the new picture in the gallery, with its date and words under it",
            UI,
            &format!(
                "shown('view-gallery') && all('gallery-item').length === 1 \
                 && loaded(q('gallery-thumb')) && text('gallery-caption').includes({}) \
                 && q('gallery-caption').querySelector('time').textContent !== '' \
                 && q('gallery-item').dataset.imageId",
                serde_json::to_string(
                    &WORDS[..WORDS.char_indices().nth(4).map_or(WORDS.len(), |(i, _)| i)]
                )?
            ),
        )
        .await?;
    let status_line = browser.text("gallery-status").await?;
    ensure!(
        status_line.is_empty(),
        "the gallery should not show a count line, shows {status_line:?}"
    );
    browser.screenshots("gallery").await?;
    id.as_str()
        .map(str::to_owned)
        .context("the gallery item has no image id")
}

/// The weather line of a picture made near Shanghai, as the fake service described it.
fn weather_line() -> String {
    format!(
        "{} · {} · {} °C",
        weather::PLACE,
        weather::DESCRIPTION,
        weather::TEMPERATURE.round()
    )
}

/// The detail view: the words, the weather, a readable description without the instructions written for the
/// image model, the prompt behind "details", and Delete and Download on screen at both sizes.
async fn check_detail(browser: &mut Browser, image_id: &str) -> Result<()> {
    open_detail(browser, image_id).await?;
    let weather = browser.text("detail-weather").await?;
    ensure!(
        weather == weather_line(),
        "the detail view's weather should say {:?}, says {weather:?}",
        weather_line()
    );
    let description = browser.text("detail-description").await?;
    ensure!(
        description.contains(WORDS),
        "the picture's description should quote the words, it is {description:?}"
    );
    for instruction in MODEL_INSTRUCTIONS {
        ensure!(
            !description.contains(instruction),
            "the description shows text written for the image model ({instruction:?}): {description:?}"
        );
    }
    let closed = browser.eval("!q('detail-prompt-details').open").await?;
    ensure!(
        closed == true,
        "the prompt should be behind a closed toggle"
    );
    browser
        .eval("(q('detail-prompt-details').querySelector('summary').click(), true)")
        .await?;
    browser
        .wait_shown("the prompt after opening its toggle", UI, "detail-prompt")
        .await?;
    let prompt = browser.text("detail-prompt").await?;
    ensure!(
        prompt.contains(WORDS),
        "the prompt should quote the words: {prompt:?}"
    );
    for instruction in MODEL_INSTRUCTIONS {
        ensure!(
            !prompt.contains(instruction),
            "the prompt is shown with its instructions to the model ({instruction:?}): {prompt:?}"
        );
    }
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await?;
        browser
            .wait_for(
                &format!("Delete and Download on screen without scrolling at {width}×{height}"),
                UI,
                "onScreen('detail-delete') && onScreen('detail-download')",
            )
            .await?;
        browser.screenshot(&format!("detail-{width}")).await?;
    }
    browser.set_viewport(SIZES[0].0, SIZES[0].1).await?;
    browser.click("image-dialog-close").await?;
    browser
        .wait_for("the detail view to close", UI, "!q('image-dialog').open")
        .await?;
    Ok(())
}

/// Chinese end to end: the page's language, and what the user read on the way, in Chinese.
async fn check_chinese(browser: &mut Browser) -> Result<()> {
    let lang = browser.eval("document.documentElement.lang").await?;
    ensure!(
        lang == "zh-CN",
        "the page's language should be zh-CN, is {lang}"
    );
    for testid in [
        "nav-record",
        "nav-gallery",
        "signout-button",
        "gallery-empty",
    ] {
        let text = browser
            .eval(&format!("q('{testid}').textContent.trim()"))
            .await?;
        let text = text.as_str().unwrap_or_default();
        ensure!(
            has_chinese(text),
            "`{testid}` should be in Chinese, reads {text:?}"
        );
    }
    Ok(())
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

async fn open_detail(browser: &mut Browser, image_id: &str) -> Result<()> {
    let item = format!(
        "all('gallery-item').find((e) => e.dataset.imageId === {})",
        serde_json::to_string(image_id)?
    );
    browser
        .wait_for(
            "the picture in the gallery",
            UI,
            &format!("shown('view-gallery') && !!({item}) && loaded(q('gallery-thumb'))"),
        )
        .await?;
    browser.eval(&format!("(({item}).click(), true)")).await?;
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
    Ok(())
}

/// Opens the picture's detail view and deletes it with confirmation.
async fn open_and_delete(browser: &mut Browser, image_id: &str) -> Result<()> {
    open_detail(browser, image_id).await?;
    let description = browser.text("detail-description").await?;
    let lang = browser.eval("document.documentElement.lang").await?;
    if lang == "zh-CN" {
        ensure!(
            has_chinese(&description.replace(WORDS, "")),
            "the description should be in Chinese around the words: {description:?}"
        );
    }
    browser.screenshots("detail").await?;

    browser.click("detail-delete").await?;
    browser
        .wait_for("the delete confirmation", UI, "q('confirm-dialog').open")
        .await?;
    browser.screenshots("confirm-delete").await?;
    browser.click("confirm-delete").await?;
    browser
        .wait_for(
            "the gallery without the deleted picture",
            UI,
            "!q('confirm-dialog').open && !q('image-dialog').open \
             && all('gallery-item').length === 0 && shown('gallery-empty')",
        )
        .await?;
    browser.screenshots("deleted").await?;
    Ok(())
}

/// `cargo xtask dev` as a user runs it, on a free port.
pub struct Dev {
    pub group: Group,
    pub url: String,
    /// The emulator `dev` started, for commands run against the local stage.
    pub emulator_url: String,
    /// The private copy of the xtask binary `dev` runs from.
    pub xtask: PathBuf,
}

/// Starts `cargo xtask dev` with its data in `scratch/data` (the same folder on every call) and
/// waits until it answers.
pub async fn start_dev(artifacts: &Path, scratch: &Path) -> Result<Dev> {
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
    // dev starts its own emulator; the harness's must not leak in. Without an OpenAI key it
    // uses the offline providers, whose behaviour this test expects; the weather comes from a
    // local OpenWeather.
    for name in ["AWS_ENDPOINT_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"] {
        command.env_remove(name);
    }
    command
        .env("OPENWEATHER_API_KEY", "test-openweather-key")
        .env("OPENWEATHER_BASE_URL", weather::start().await?);
    // Every API request and response is checked against the OpenAPI document.
    command.env("MUMBLE_CHECK_OPENAPI", openapi_violations(artifacts));
    let mut group = Group::spawn("cargo xtask dev", command, &artifacts.join("dev.log"))?;
    let url = format!("http://127.0.0.1:{port}");
    processes::wait_for_http(&mut group, &format!("{url}/api/v1/health"), DEV_READY)
        .await
        .context("`cargo xtask dev` did not come up")?;
    Ok(Dev {
        group,
        url,
        emulator_url: format!("http://127.0.0.1:{emulator_port}"),
        xtask,
    })
}

pub fn unique_email(who: &str) -> String {
    format!("{who}-{}@example.com", uuid::Uuid::new_v4().simple())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_owned()
}

pub fn artifacts_dir() -> PathBuf {
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

// ---------------------------------------------------------------------------------------------
// An account moved from the old Mumble: `cargo xtask migrate` of the dump its tests use (written
// by pymongo, xtask/tests/it/migrate/make_dump.py) into the local stage, then the person signs in
// as they did on the old site.

/// Ada's account in that dump: her two images with their files, and one whose file is not a
/// picture (migrated as unavailable).
const MOVED_EMAIL: &str = "ada@example.org";
const MOVED_PICTURES: usize = 3;
const MOVED_UNAVAILABLE: usize = 1;

/// Migrates the old Mumble's dump into `cargo xtask dev`'s local stage, as an operator would.
fn migrate_old_mumble(dev: &Dev, scratch: &Path) -> Result<()> {
    let old = scratch.join("old-mumble");
    let script = workspace_root().join("xtask/tests/it/migrate/make_dump.py");
    let status = Command::new("python")
        .arg(script)
        .arg(&old)
        .args(["bson", "base"])
        .status()
        .context(
            "cannot run python (the tools venv must be on PATH, as `cargo xtask test` does)",
        )?;
    ensure!(status.success(), "make_dump.py failed ({status})");
    let output = Command::new(&dev.xtask)
        .args(["migrate", "--stage", "local", "--yes", "--from"])
        .arg(old.join("dump"))
        .arg("--uploads")
        .arg(old.join("uploads"))
        .arg("--rejects")
        .arg(old.join("rejects.jsonl"))
        .env("AWS_ENDPOINT_URL", &dev.emulator_url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .current_dir(workspace_root())
        .output()
        .context("cannot run `xtask migrate`")?;
    ensure!(
        output.status.success(),
        "`xtask migrate` into the local stage failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Signs in with whatever the old password was, is told Mumble has moved, sets a new password
/// with the code from the e-mail, and finds the old pictures in the gallery.
async fn moved_account_resets_and_finds_its_pictures(browser: &mut Browser) -> Result<()> {
    browser
        .wait_shown("the sign-in form", UI, "signin-form")
        .await?;
    browser.type_into("signin-email", MOVED_EMAIL).await?;
    browser
        .type_into("signin-password", "the-old-sites-password")
        .await?;
    browser.click("signin-submit").await?;
    let moved = tr(
        browser,
        "auth.error.PasswordResetRequiredException",
        json!({}),
    )
    .await?;
    browser
        .wait_for(
            "the new-password form saying Mumble has moved",
            UI,
            &format!(
                "shown('reset-form') && q('reset-email').value === {} && text('reset-error') === {}",
                serde_json::to_string(MOVED_EMAIL)?,
                serde_json::to_string(&moved)?
            ),
        )
        .await?;
    browser.screenshots("moved-account").await?;
    browser.type_into("reset-code", "123456").await?;
    browser.type_into("reset-password", NEW_PASSWORD).await?;
    browser.click("reset-submit").await?;
    wait_signed_in(browser, MOVED_EMAIL).await?;

    browser.click("nav-gallery").await?;
    browser
        .wait_for(
            "the moved account's old pictures, thumbnails loaded, the lost one with its note",
            UI,
            &format!(
                "all('gallery-item').length === {MOVED_PICTURES} \
                 && all('gallery-unavailable').length === {MOVED_UNAVAILABLE} \
                 && all('gallery-thumb').length === {} \
                 && all('gallery-thumb').every((img) => img.complete && img.naturalWidth > 0)",
                MOVED_PICTURES - MOVED_UNAVAILABLE
            ),
        )
        .await?;
    browser.screenshots("moved-account-gallery").await?;
    sign_out(browser).await
}
