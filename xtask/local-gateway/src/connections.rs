//! The WebSocket API's open connections: what the websocket handler registers and the Management
//! API (`/@connections/{id}`) writes to or closes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::events::WebSocketConnection;

/// What the Management API can ask of an open socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

/// An open connection as the Management API sees it.
#[derive(Debug, Clone)]
pub struct OpenConnection {
    pub info: WebSocketConnection,
    pub last_active_at: DateTime<Utc>,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

/// The open connections by id.
#[derive(Debug, Clone, Default)]
pub struct Connections(Arc<Mutex<HashMap<String, OpenConnection>>>);

impl Connections {
    /// Registers a connection; returns the receiving end of its outbox.
    pub fn open(&self, info: WebSocketConnection) -> mpsc::UnboundedReceiver<Outgoing> {
        let (outbox, receiver) = mpsc::unbounded_channel();
        let connection = OpenConnection {
            last_active_at: info.connected_at,
            info,
            outbox,
        };
        self.lock()
            .insert(connection.info.connection_id.clone(), connection);
        receiver
    }

    pub fn close(&self, connection_id: &str) {
        self.lock().remove(connection_id);
    }

    /// Queues `message` for the connection; `false` when it is gone (the Management API's 410).
    pub fn send(&self, connection_id: &str, message: Outgoing) -> bool {
        let mut connections = self.lock();
        let delivered = connections
            .get(connection_id)
            .is_some_and(|c| c.outbox.send(message).is_ok());
        if !delivered {
            connections.remove(connection_id);
        }
        delivered
    }

    pub fn get(&self, connection_id: &str) -> Option<OpenConnection> {
        self.lock().get(connection_id).cloned()
    }

    pub fn touch(&self, connection_id: &str) {
        if let Some(connection) = self.lock().get_mut(connection_id) {
            connection.last_active_at = Utc::now();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, OpenConnection>> {
        // A panic while holding the lock leaves the map consistent (every change is one call).
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection id in API Gateway's style (16 characters ending in `=`), so the Management
/// API's path encoding is exercised as in the cloud.
pub fn new_connection_id() -> String {
    let random = uuid::Uuid::new_v4();
    base64::engine::general_purpose::URL_SAFE.encode(&random.as_bytes()[..11])
}
