//! `/ws` and the Management API at `/@connections/{id}`.

use std::time::Duration;

use tokio_tungstenite::tungstenite::{self, Message};

use crate::fixture::{GOOD_TOKEN, Running, start};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(socket: &mut Socket) -> String {
    use futures::StreamExt;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}

async fn connect(gateway: &Running) -> Socket {
    let (socket, _) =
        tokio_tungstenite::connect_async(gateway.ws_url(&format!("?token={GOOD_TOKEN}")))
            .await
            .expect("connected");
    socket
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "x").expect("write");
    dir
}

#[tokio::test]
async fn a_refused_connect_fails_the_handshake_with_its_status() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let refused = tokio_tungstenite::connect_async(gateway.ws_url("?token=forged")).await;
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected an HTTP 401 handshake failure, got {other:?}"),
    }
}

#[tokio::test]
async fn messages_are_routed_on_action_and_answered() {
    use futures::SinkExt;
    let dir = site();
    let gateway = start(dir.path()).await;
    let mut socket = connect(&gateway).await;

    socket
        .send(Message::text(
            r#"{"action":"generateImage","audioKey":"audio/u/1.webm"}"#,
        ))
        .await
        .expect("send");
    let reply: serde_json::Value =
        serde_json::from_str(&next_text(&mut socket).await).expect("json");
    assert_eq!(reply["type"], "accepted");
    assert_eq!(
        reply["got"],
        r#"{"action":"generateImage","audioKey":"audio/u/1.webm"}"#
    );

    socket
        .send(Message::text(r#"{"action":"dance"}"#))
        .await
        .expect("send");
    let refused: serde_json::Value =
        serde_json::from_str(&next_text(&mut socket).await).expect("json");
    assert_eq!(
        refused["message"], "Forbidden",
        "no route takes this action"
    );
    assert_eq!(gateway.routes_seen(), vec!["$connect", "generateImage"]);
}

#[tokio::test]
async fn the_management_api_reaches_the_socket_and_says_gone_after_it_closes() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let mut socket = connect(&gateway).await;
    let id = gateway.connection_ids().pop().expect("a connection id");
    // The SDK percent-encodes the id in the path, as connection ids end in `=`.
    let encoded: String = id.replace('=', "%3D");
    let client = reqwest::Client::new();

    let pushed = client
        .post(gateway.url(&format!("/@connections/{encoded}")))
        .body(r#"{"type":"job","status":"generating"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(pushed.status(), 200);
    assert_eq!(
        next_text(&mut socket).await,
        r#"{"type":"job","status":"generating"}"#
    );

    let info = client
        .get(gateway.url(&format!("/@connections/{encoded}")))
        .send()
        .await
        .expect("request");
    assert_eq!(info.status(), 200);

    socket.close(None).await.expect("close");
    let mut gone = None;
    for _ in 0..50 {
        let response = client
            .post(gateway.url(&format!("/@connections/{encoded}")))
            .body("late")
            .send()
            .await
            .expect("request");
        if response.status() == 410 {
            gone = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone = gone.expect("410 Gone once the socket closed");
    assert_eq!(gone.headers()["x-amzn-errortype"], "GoneException");
    for _ in 0..50 {
        if gateway.routes_seen().contains(&"$disconnect".to_owned()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the function never got $disconnect");
}
