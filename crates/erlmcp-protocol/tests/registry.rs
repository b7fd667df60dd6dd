//! The server's sessions live in `erlmcp-registry`: a session that ends by any path —
//! its peer leaves, its task is aborted, its task panics, its future is dropped unpolled —
//! leaves no registry entry and no subscription; `notifications/resources/updated` reaches
//! exactly the sessions subscribed to the URI; the registry's figures are readable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use erlmcp_codec::schema::{ReadResourceResult, Resource, ResourceContents};
use erlmcp_codec::{Frame, Notification};
use erlmcp_protocol::server::TemplateVars;
use erlmcp_protocol::{Client, ClientBuilder, Introspection, Server, SessionError};
use erlmcp_registry::{Kind, RegistryError};
use erlmcp_transport::{
    FrameReader, MemoryTransport, Transport, TransportError, TransportInfo, memory_pair,
};
use parking_lot::Mutex;
use tokio::sync::Notify;

const URIS: [&str; 3] = ["mem://a", "mem://b", "mem://c"];

fn server() -> Server {
    let mut builder = Server::builder("registry", "1.0.0");
    for uri in URIS {
        builder = builder.resource(
            Resource::new(uri, uri),
            |uri: String, _v: TemplateVars, _c| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri, "x",
                )]))
            },
        );
    }
    builder.build().unwrap()
}

/// Every `notifications/resources/updated` URI a client received, in order.
#[derive(Clone, Default)]
struct Updates {
    uris: Arc<Mutex<Vec<String>>>,
    arrived: Arc<Notify>,
}

impl Updates {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.uris.lock())
    }
}

async fn connect(server: &Server, name: &str) -> (Client, Updates, tokio::task::JoinHandle<()>) {
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    let session = tokio::spawn(server.serve(server_side));
    let updates = Updates::default();
    let seen = updates.clone();
    let client = ClientBuilder::new(name, "1")
        .on_notification(move |n: Notification| {
            if n.method == "notifications/resources/updated"
                && let Some(uri) = n.params.as_ref().and_then(|p| p.get("uri"))
            {
                seen.uris
                    .lock()
                    .push(uri.as_str().unwrap_or_default().to_owned());
                seen.arrived.notify_waiters();
            }
        })
        .connect(client_side)
        .await
        .unwrap();
    let session = tokio::spawn(async move {
        let _ = session.await;
    });
    (client, updates, session)
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `updates` holds `n` URIs (or a short while passes, for "nothing came").
async fn collect(updates: &Updates, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while updates.uris.lock().len() < n && tokio::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(20), updates.arrived.notified()).await;
    }
    let mut got = updates.take();
    got.sort();
    got
}

#[tokio::test]
async fn fan_out_reaches_exactly_the_subscribers() {
    let server = server();
    let (a, a_updates, _) = connect(&server, "a").await;
    let (b, b_updates, _) = connect(&server, "b").await;
    let (c, c_updates, _) = connect(&server, "c").await;
    a.subscribe("mem://a").await.unwrap();
    b.subscribe("mem://a").await.unwrap();
    b.subscribe("mem://b").await.unwrap();
    // Subscribing twice is one subscription.
    b.subscribe("mem://b").await.unwrap();
    let held = server.introspect();
    assert_eq!(held.sessions, 3);
    assert_eq!(held.subscriptions, 3);
    assert_eq!(held.subscribed_uris, 2);
    let groups = server.registry_metrics().subscribers;
    assert_eq!(
        (groups.groups, groups.memberships, groups.largest_group),
        (2, 3, 2)
    );

    assert_eq!(server.notify_resource_updated("mem://a"), 2);
    assert_eq!(collect(&a_updates, 1).await, vec!["mem://a"]);
    assert_eq!(collect(&b_updates, 1).await, vec!["mem://a"]);
    assert_eq!(server.notify_resource_updated("mem://b"), 1);
    assert_eq!(collect(&b_updates, 1).await, vec!["mem://b"]);
    assert_eq!(server.notify_resource_updated("mem://c"), 0);
    assert_eq!(collect(&a_updates, 1).await, Vec::<String>::new());
    assert_eq!(collect(&c_updates, 1).await, Vec::<String>::new());

    // Unsubscribing leaves the group; a session that ends leaves all of its groups.
    b.unsubscribe("mem://b").await.unwrap();
    assert_eq!(server.notify_resource_updated("mem://b"), 0);
    a.close().await.unwrap();
    eventually("a's session to end", || server.session_count() == 2).await;
    assert_eq!(server.notify_resource_updated("mem://a"), 1);
    assert_eq!(collect(&b_updates, 1).await, vec!["mem://a"]);
    assert_eq!(collect(&a_updates, 1).await, Vec::<String>::new());
    assert_eq!(collect(&c_updates, 1).await, Vec::<String>::new());

    b.close().await.unwrap();
    c.close().await.unwrap();
    eventually("every session to end", || {
        server.introspect() == Introspection::default()
    })
    .await;
    assert_eq!(server.registry_metrics().subscribers.memberships, 0);
}

#[tokio::test]
async fn an_aborted_session_leaves_no_registry_entry() {
    let server = server();
    let (client, _, _) = connect(&server, "kept").await;
    let (doomed, _, _) = connect(&server, "doomed").await;
    doomed.subscribe("mem://a").await.unwrap();
    client.subscribe("mem://a").await.unwrap();
    assert_eq!(server.registry().count_kind(Kind::SESSION), 2);
    let ids: Vec<u64> = server.sessions().iter().map(|s| s.id).collect();

    // A session task aborted mid-run (what a supervisor does past its shutdown timeout).
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    let task = tokio::spawn(server.serve(server_side));
    let third = ClientBuilder::new("aborted", "1")
        .connect(client_side)
        .await
        .unwrap();
    third.subscribe("mem://a").await.unwrap();
    let aborted_id = server
        .sessions()
        .iter()
        .map(|s| s.id)
        .find(|id| !ids.contains(id))
        .unwrap();
    assert!(server.session(aborted_id).is_some());
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(server.session(aborted_id).is_none());
    assert_eq!(server.registry().count(), 2);
    assert_eq!(server.introspect().subscriptions, 1 + 1);
    assert_eq!(server.notify_resource_updated("mem://a"), 2);

    // A dropped doomed client: its session ends normally, entry removed.
    doomed.close().await.unwrap();
    eventually("the closed session to go", || {
        server.registry().count() == 1
    })
    .await;
    let metrics = server.registry_metrics().sessions;
    assert_eq!(metrics.entries, 1);
    assert_eq!(metrics.inserts, 3);
    // Removed by the engine's cleanup (by key) or by the guard in the session future,
    // whichever ran first when the future was dropped.
    assert_eq!(metrics.removes + metrics.owner_removals, 2);
    client.close().await.unwrap();
    eventually("the last session to go", || {
        server.introspect() == Introspection::default()
    })
    .await;
}

/// A transport whose reader panics on its first read after `armed` fires: a crash of the
/// session task outside the engine's per-request catch.
struct Panicking {
    inner: MemoryTransport,
    armed: Arc<Notify>,
}

struct PanickingReader<R> {
    inner: R,
    armed: Arc<Notify>,
}

impl Transport for Panicking {
    type Reader = PanickingReader<<MemoryTransport as Transport>::Reader>;
    type Writer = <MemoryTransport as Transport>::Writer;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (Self::Reader, Self::Writer) {
        let (reader, writer) = self.inner.split();
        (
            PanickingReader {
                inner: reader,
                armed: self.armed,
            },
            writer,
        )
    }
}

impl<R: FrameReader> FrameReader for PanickingReader<R> {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        tokio::select! {
            () = self.armed.notified() => panic!("session crashed (test)"),
            frame = self.inner.next_frame() => frame,
        }
    }
}

#[tokio::test]
async fn a_panicked_session_leaves_no_registry_entry() {
    let server = server();
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    let armed = Arc::new(Notify::new());
    let task = tokio::spawn(server.serve(Panicking {
        inner: server_side,
        armed: armed.clone(),
    }));
    let client = ClientBuilder::new("crashing", "1")
        .connect(client_side)
        .await
        .unwrap();
    client.subscribe("mem://b").await.unwrap();
    assert_eq!(server.session_count(), 1);
    assert_eq!(server.introspect().subscribed_uris, 1);
    armed.notify_one();
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(server.introspect(), Introspection::default());
    assert_eq!(server.notify_resource_updated("mem://b"), 0);
    assert_eq!(server.registry().count(), 0);
    let metrics = server.registry_metrics().sessions;
    assert_eq!((metrics.inserts, metrics.entries), (1, 0));
}

#[tokio::test]
async fn an_unpolled_session_leaves_no_registry_entry() {
    let server = server();
    let (server_side, _client_side) = memory_pair(1 << 20, 64 * 1024);
    let session = server.serve(server_side);
    assert_eq!(server.registry().count_kind(Kind::SESSION), 1);
    drop(session);
    assert_eq!(server.registry().count(), 0);
    assert_eq!(server.registry_metrics().sessions.owner_removals, 1);
}

#[tokio::test]
async fn max_sessions_refuses_past_the_limit() {
    let server = Server::builder("capped", "1.0.0")
        .max_sessions(1)
        .build()
        .unwrap();
    let (first, first_client) = memory_pair(1 << 20, 64 * 1024);
    let _first = tokio::spawn(server.serve(first));
    let client = ClientBuilder::new("first", "1")
        .connect(first_client)
        .await
        .unwrap();
    let (second, _second_client) = memory_pair(1 << 20, 64 * 1024);
    match server.serve(second).await {
        Err(SessionError::Registry(RegistryError::Full { limit: 1 })) => {}
        other => panic!("expected a registry refusal, got {other:?}"),
    }
    assert_eq!(server.session_count(), 1);
    assert_eq!(server.registry_metrics().sessions.refused_full, 1);
    client.close().await.unwrap();
    eventually("the first session to end", || server.session_count() == 0).await;
}

#[tokio::test]
async fn shutdown_session_is_routed_through_the_registry() {
    let server = server();
    let (client, _, session) = connect(&server, "routed").await;
    let id = server.sessions()[0].id;
    assert_eq!(server.session(id).map(|s| s.id()), Some(id));
    assert!(server.shutdown_session(id));
    session.await.unwrap();
    assert!(!server.shutdown_session(id));
    assert!(server.session(id).is_none());
    assert!(server.registry_metrics().sessions.lookups >= 2);
    drop(client);
}
