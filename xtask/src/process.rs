//! What the commands need of the servers they start as child processes (the emulator, the local
//! gateway, `cargo xtask dev` in the benchmarks): a free port on 127.0.0.1, and waiting until the
//! child answers over HTTP while noticing when it stops instead.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A port on 127.0.0.1 nothing listens on now (the OS picks it; the caller binds it soon after).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("cannot find a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// An HTTP client for local servers: no proxy (a developer's `HTTP_PROXY` must not catch
/// 127.0.0.1) and a short timeout per request.
pub fn local_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .context("cannot build an HTTP client")
}

/// Asks `url` every `interval` until it answers 2xx. Before each try `alive` says whether the
/// child still runs (an error ends the wait with it); after `limit` the wait fails naming `url`.
pub async fn wait_for_http(
    client: &reqwest::Client,
    url: &str,
    limit: Duration,
    interval: Duration,
    mut alive: impl FnMut() -> Result<()>,
) -> Result<()> {
    let started = Instant::now();
    loop {
        alive()?;
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return Ok(());
        }
        if started.elapsed() > limit {
            bail!("{url} did not answer within {}s", limit.as_secs());
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_on_loopback_and_usable() {
        let port = free_port().unwrap();
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    }

    #[tokio::test]
    async fn a_child_that_stopped_ends_the_wait_with_its_reason() {
        let client = local_client(Duration::from_millis(200)).unwrap();
        let url = format!("http://127.0.0.1:{}/health", free_port().unwrap());
        let error = wait_for_http(
            &client,
            &url,
            Duration::from_secs(5),
            Duration::from_millis(10),
            || bail!("the child exited (status 3)"),
        )
        .await
        .unwrap_err();
        assert_eq!(error.to_string(), "the child exited (status 3)");
        let error = wait_for_http(
            &client,
            &url,
            Duration::from_millis(50),
            Duration::from_millis(10),
            || Ok(()),
        )
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("did not answer within"),
            "{error}"
        );
    }
}
