//! Headless Chromium through chromedriver (WebDriver), with the few moves the test makes:
//! find by `data-testid`, click, type, press a key, wait for a page state, resize the viewport,
//! take a screenshot.
//!
//! Every wait is bounded and names what did not appear; the page's own error line is quoted,
//! because that is usually the reason.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::processes::{self, Group};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The two screens every state is checked and photographed at: a laptop and a phone.
pub const SIZES: [(u32, u32); 2] = [(1280, 900), (390, 844)];

/// Small helpers every probe script can use: `q(testid)` finds an element, `shown(testid)` says
/// whether a user can see it (present, not hidden, laid out).
const PRELUDE: &str = r#"
const q = (id) => document.querySelector(`[data-testid="${id}"]`);
const all = (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)];
const shown = (id) => { const e = q(id); return !!e && e.checkVisibility(); };
const text = (id) => (q(id)?.textContent ?? '').trim();
const loaded = (img) => !!img && img.complete && img.naturalWidth > 0;
const onScreen = (id) => { const e = q(id); if (!e || !e.checkVisibility()) return false;
  const r = e.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth; };
"#;

pub struct Browser {
    client: Client,
    screenshots: PathBuf,
    taken: u32,
    _chromedriver: Group,
}

impl Browser {
    /// Starts chromedriver on a free 127.0.0.1 port and opens a headless Chromium whose microphone
    /// plays `microphone_wav`.
    pub async fn start(
        microphone_wav: &Path,
        profile: &Path,
        screenshots: &Path,
    ) -> Result<Browser> {
        check_installed()?;
        let port = processes::free_port();
        let mut command = Command::new(CHROMEDRIVER);
        command.args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()]);
        let mut chromedriver = Group::spawn(
            "chromedriver",
            command,
            &screenshots.join("chromedriver.log"),
        )?;
        let endpoint = format!("http://127.0.0.1:{port}");
        processes::wait_for_http(
            &mut chromedriver,
            &format!("{endpoint}/status"),
            Duration::from_secs(20),
        )
        .await?;

        let args = [
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--lang=en-US".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.display()),
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
            format!(
                "--use-file-for-fake-audio-capture={}",
                microphone_wav.display()
            ),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        // xtask links rustls with both ring (mumble-core's SDK clients, for `migrate`) and
        // aws-lc-rs (its own SDK clients), so rustls cannot pick a provider by itself.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .context("cannot set up the WebDriver client")?
            .capabilities(capabilities)
            .connect(&endpoint)
            .await
            .map_err(|e| {
                anyhow!(
                    "chromedriver could not start Chromium: {e}; its log:\n{}",
                    chromedriver.log_tail()
                )
            })?;
        Ok(Browser {
            client,
            screenshots: screenshots.to_owned(),
            taken: 0,
            _chromedriver: chromedriver,
        })
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("cannot open {url}"))
    }

    pub async fn reload(&self) -> Result<()> {
        self.client
            .refresh()
            .await
            .context("cannot reload the page")
    }

    /// The element with `data-testid="{testid}"`.
    pub async fn find(&self, testid: &str) -> Result<Element> {
        self.client
            .find(Locator::Css(&format!(r#"[data-testid="{testid}"]"#)))
            .await
            .with_context(|| format!("the page has no `{testid}`"))
    }

    pub async fn click(&self, testid: &str) -> Result<()> {
        self.find(testid)
            .await?
            .click()
            .await
            .with_context(|| format!("cannot click `{testid}`"))
    }

    /// Types `value` into the field, as a user would after clearing it.
    pub async fn type_into(&self, testid: &str, value: &str) -> Result<()> {
        let field = self.find(testid).await?;
        field
            .clear()
            .await
            .with_context(|| format!("cannot clear `{testid}`"))?;
        field
            .send_keys(value)
            .await
            .with_context(|| format!("cannot type into `{testid}`"))
    }

    /// Presses and releases `key` wherever the keyboard focus is, as a keyboard user would.
    pub async fn press(&self, key: Key) -> Result<()> {
        let value: char = key.into();
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.client
            .perform_actions(actions)
            .await
            .with_context(|| format!("cannot press {key:?}"))
    }

    /// Makes the page's viewport `width` × `height` CSS pixels (the window is resized until the
    /// viewport, not the window, has that size).
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        let (mut window_width, mut window_height) = (width, height);
        for _ in 0..3 {
            self.client
                .set_window_size(window_width, window_height)
                .await
                .context("cannot resize the window")?;
            let inner = self.eval("[window.innerWidth, window.innerHeight]").await?;
            let (Some(inner_width), Some(inner_height)) = (inner[0].as_i64(), inner[1].as_i64())
            else {
                bail!("the page reports no viewport size: {inner}");
            };
            if inner_width == i64::from(width) && inner_height == i64::from(height) {
                return Ok(());
            }
            window_width = (i64::from(window_width) + i64::from(width) - inner_width).max(1) as u32;
            window_height =
                (i64::from(window_height) + i64::from(height) - inner_height).max(1) as u32;
        }
        Ok(())
    }

    /// A screenshot at each of [`SIZES`], named `NN-{name}-{width}.png`; ends at the first size.
    pub async fn screenshots(&mut self, name: &str) -> Result<()> {
        for (width, height) in SIZES.iter().rev() {
            self.set_viewport(*width, *height).await?;
            self.screenshot(&format!("{name}-{width}")).await?;
        }
        Ok(())
    }

    /// Evaluates a JavaScript expression (with the [`PRELUDE`] helpers) in the page.
    pub async fn eval(&self, expression: &str) -> Result<Value> {
        let script = format!("{PRELUDE}\nreturn ({expression});");
        self.client
            .execute(&script, vec![])
            .await
            .with_context(|| format!("cannot evaluate `{expression}` in the page"))
    }

    pub async fn text(&self, testid: &str) -> Result<String> {
        let value = self.eval(&format!("text('{testid}')")).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until `expression` is truthy in the page; returns its value. On timeout the error
    /// names `what` and quotes the page's error line.
    pub async fn wait_for(&self, what: &str, limit: Duration, expression: &str) -> Result<Value> {
        let started = Instant::now();
        loop {
            let value = self.eval(expression).await?;
            if is_truthy(&value) {
                return Ok(value);
            }
            if started.elapsed() > limit {
                let alert = self.text("error-message").await.unwrap_or_default();
                let alert = if alert.is_empty() {
                    "the page shows no error".to_owned()
                } else {
                    format!("the page says: {alert}")
                };
                bail!(
                    "{what} did not appear within {}s ({alert}; waited for `{expression}`)",
                    limit.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until the element is visible to a user.
    pub async fn wait_shown(&self, what: &str, limit: Duration, testid: &str) -> Result<()> {
        self.wait_for(what, limit, &format!("shown('{testid}')"))
            .await
            .map(drop)
    }

    /// Saves a PNG of the viewport as `NN-{name}.png`.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        self.taken += 1;
        let path = self
            .screenshots
            .join(format!("{:02}-{name}.png", self.taken));
        let png = self
            .client
            .screenshot()
            .await
            .with_context(|| format!("cannot take the screenshot {name}"))?;
        std::fs::write(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Ends the WebDriver session (Chromium quits); chromedriver stops when this is dropped.
    pub async fn close(self) -> Result<()> {
        self.client
            .clone()
            .close()
            .await
            .context("cannot end the browser session")
    }
}

/// Fails (never skips) when Debian's chromium or chromium-driver is not installed.
pub fn check_installed() -> Result<()> {
    for program in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(program).exists() {
            bail!(
                "{program} is missing; run `cargo xtask test` (it installs chromium) or \
                 apt-get install chromium chromium-driver"
            );
        }
    }
    Ok(())
}

fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
