//! The site from disk, its generated `config.json`, and the fallback to `index.html`.

use serde_json::Value;

use crate::fixture::start;

#[tokio::test]
async fn site_files_are_read_from_disk_on_every_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index.html");
    std::fs::write(&index, "<title>first</title>").expect("write");
    let gateway = start(dir.path()).await;
    let client = reqwest::Client::new();

    let first = client.get(gateway.url("/")).send().await.expect("request");
    assert_eq!(first.headers()["cache-control"], "no-cache");
    assert_eq!(first.text().await.expect("text"), "<title>first</title>");

    std::fs::write(&index, "<title>edited</title>").expect("write");
    let again = client
        .get(gateway.url("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert_eq!(
        again, "<title>edited</title>",
        "an edit shows without a restart"
    );

    let deep_link = client
        .get(gateway.url("/gallery/some-image"))
        .send()
        .await
        .expect("request");
    assert_eq!(deep_link.status(), 200);
    assert_eq!(
        deep_link.text().await.expect("text"),
        "<title>edited</title>"
    );
}

#[tokio::test]
async fn config_json_points_the_site_at_this_gateway() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "x").expect("write");
    let gateway = start(dir.path()).await;
    let config: Value = reqwest::get(gateway.url("/config.json"))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(config["apiUrl"], gateway.base);
    assert_eq!(config["webSocketUrl"], gateway.ws_url(""));
    assert_eq!(config["userPoolId"], "us-east-1_pool");
    assert_eq!(config["userPoolClientId"], "client-1");
    assert_eq!(config["cognitoEndpoint"], "http://127.0.0.1:4566/");
}
