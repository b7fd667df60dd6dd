//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`) while a task
//! runs: a handler's ask makes the task `input_required` with `inputRequests`, and
//! `tasks/update` answers it (malformed answers -32602, keys not outstanding ignored);
//! cancellation and TTL expiry of a waiting task; `notifications/tasks` on
//! `subscriptions/listen` streams that asked for the task's id. Over the raw wire of
//! an in-memory transport; shapes checked against the official 2026-07-28 schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{RawPeer, code, object_schema, validate_2026};
use erlmcp_codec::schema::{
    CallToolResult, CreateMessageRequestParams, ElicitRequestParams, ElicitValue, JsonObject,
    SamplingMessage, TaskSupport, Tool, ToolExecution,
};
use erlmcp_protocol::{HandlerError, Server, SessionConfig, TaskLimits};
use serde_json::{Value, json};
use tokio::sync::Notify;

const EXT: &str = "io.modelcontextprotocol/tasks";

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "tasks-2026-test", "version": "1"},
    })
}

/// The extension and every input capability.
fn caps() -> Value {
    json!({"extensions": {EXT: {}}, "elicitation": {"form": {}}, "sampling": {}, "roots": {}})
}

fn tasked(name: &str) -> Tool {
    let mut tool = Tool::new(name, object_schema(json!({}), &[]));
    tool.execution = Some(ToolExecution {
        task_support: Some(TaskSupport::Optional),
        ..ToolExecution::default()
    });
    tool
}

fn name_form() -> ElicitRequestParams {
    serde_json::from_value(json!({
        "mode": "form",
        "message": "Please enter your name.",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    }))
    .unwrap()
}

fn said_name(answer: &erlmcp_codec::schema::ElicitResult) -> String {
    match answer.content.as_ref().and_then(|c| c.get("name")) {
        Some(ElicitValue::String(name)) => name.clone(),
        _ => "nobody".into(),
    }
}

struct Fixture {
    server: Server,
    /// Handlers that got past their ask.
    resumed: Arc<AtomicUsize>,
    /// Released by a test: `greet_later` asks only then.
    gate: Arc<Notify>,
}

fn fixture(limits: TaskLimits) -> Fixture {
    let resumed = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Notify::new());
    let (r, g) = (resumed.clone(), gate.clone());
    let server = Server::builder("tasks-2026", "1")
        .config(SessionConfig {
            tasks: limits,
            ..SessionConfig::default()
        })
        .tool(tasked("greet"), move |_a: JsonObject, ctx| {
            let r = r.clone();
            async move {
                let answer = ctx.elicit_as("name", name_form()).await?;
                r.fetch_add(1, Ordering::SeqCst);
                Ok(CallToolResult::text(format!(
                    "Hello, {}!",
                    said_name(&answer)
                )))
            }
        })
        .tool(tasked("greet_later"), move |_a: JsonObject, ctx| {
            let g = g.clone();
            async move {
                g.notified().await;
                let answer = ctx.elicit_as("name", name_form()).await?;
                Ok(CallToolResult::text(format!(
                    "Hello, {}!",
                    said_name(&answer)
                )))
            }
        })
        .tool(tasked("two_steps"), |_a: JsonObject, ctx| async move {
            // One ask after the other: the second one is asked once the first is answered.
            let who = said_name(&ctx.elicit_as("name", name_form()).await?);
            let roots = ctx.list_roots().await?;
            let uris: Vec<String> = roots.roots.iter().map(|r| r.uri.clone()).collect();
            Ok(CallToolResult::text(format!("{who}: {}", uris.join(","))))
        })
        .tool(tasked("pair"), |_a: JsonObject, ctx| async move {
            // Two asks at once: both keys are outstanding together.
            let question =
                CreateMessageRequestParams::new(vec![SamplingMessage::user_text("a colour?")], 10);
            let (name, colour) = tokio::join!(
                ctx.elicit_as("name", name_form()),
                ctx.create_message_as("llm", question),
            );
            let (name, colour) = (name?, colour?);
            let said = colour
                .content
                .blocks()
                .iter()
                .find_map(|b| b.as_text())
                .unwrap_or_default()
                .to_owned();
            Ok(CallToolResult::text(format!(
                "{} likes {said}",
                said_name(&name)
            )))
        })
        .tool(tasked("fails"), |_a: JsonObject, _ctx| async move {
            Err::<CallToolResult, _>(HandlerError::internal("backend down"))
        })
        .build()
        .unwrap();
    Fixture {
        server,
        resumed,
        gate,
    }
}

/// One client connection speaking the stateless era with the extension declared.
struct Modern {
    peer: RawPeer,
    next: i64,
}

impl Modern {
    fn start(server: &Server) -> Self {
        Modern {
            peer: RawPeer::start(server),
            next: 1,
        }
    }

    async fn call(&mut self, method: &str, mut params: Value, caps: Value) -> Value {
        params["_meta"] = meta(caps);
        self.next += 1;
        let (answer, _) = self.peer.request(json!(self.next), method, params).await;
        answer
    }

    async fn create(&mut self, tool: &str) -> String {
        let a = self
            .call("tools/call", json!({"name": tool, "arguments": {}}), caps())
            .await;
        assert_eq!(a["result"]["resultType"], "task", "{a}");
        a["result"]["taskId"].as_str().unwrap().to_owned()
    }

    async fn get(&mut self, id: &str) -> Value {
        self.call("tasks/get", json!({"taskId": id}), caps()).await
    }

    async fn update(&mut self, id: &str, responses: Value) -> Value {
        self.call(
            "tasks/update",
            json!({"taskId": id, "inputResponses": responses}),
            caps(),
        )
        .await
    }

    /// Polls `tasks/get` until the task is `status`; returns that result.
    async fn wait_for(&mut self, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            last = self.get(id).await;
            if last["result"]["status"] == status {
                return last["result"].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {id} never became {status}: {last}");
    }
}

fn accept(name: &str) -> Value {
    json!({"action": "accept", "content": {"name": name}})
}

#[tokio::test]
async fn an_elicitation_inside_a_task_is_answered_with_tasks_update() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("greet").await;

    let waiting = c.wait_for(&id, "input_required").await;
    assert_eq!(waiting["resultType"], "complete");
    let requests = &waiting["inputRequests"];
    assert_eq!(
        requests,
        &json!({"name": {"method": "elicitation/create", "params": {
            "mode": "form",
            "message": "Please enter your name.",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        }}}),
        "{waiting}"
    );
    validate_2026("InputRequests", requests);
    // A second poll before the answer shows the same outstanding request again.
    let again = c.get(&id).await;
    assert_eq!(&again["result"]["inputRequests"], requests);
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 0, "the handler waits");

    let responses = json!({"name": accept("Luca")});
    validate_2026("InputResponses", &responses);
    let ack = c.update(&id, responses).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(
        ack["result"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "_meta")
            .count(),
        1,
        "an empty acknowledgement: {ack}"
    );

    let done = c.wait_for(&id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"], "Hello, Luca!",
        "{done}"
    );
    assert!(done.get("inputRequests").is_none(), "{done}");
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 1);
    // Answering once more (the key is no longer outstanding) is acknowledged and ignored.
    let late = c.update(&id, json!({"name": accept("Other")})).await;
    assert_eq!(late["result"]["resultType"], "complete", "{late}");
    let still = c.get(&id).await;
    assert_eq!(
        still["result"]["result"]["content"][0]["text"],
        "Hello, Luca!"
    );
}

#[tokio::test]
async fn malformed_input_responses_are_refused_and_keys_not_outstanding_ignored() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("greet").await;
    let waiting = c.wait_for(&id, "input_required").await;

    // Malformed: -32602 and nothing is taken.
    let missing = c.call("tasks/update", json!({"taskId": id}), caps()).await;
    assert_eq!(code(&missing), -32602, "{missing}");
    for bad in [json!(null), json!([]), json!("name")] {
        let a = c.update(&id, bad.clone()).await;
        assert_eq!(code(&a), -32602, "{bad}: {a}");
    }
    let a = c.update(&id, json!({"name": 5})).await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(a["error"]["data"]["inputResponse"], "name");
    // An object, but not an ElicitResult.
    let a = c.update(&id, json!({"name": {"action": "maybe"}})).await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(a["error"]["data"]["inputResponse"], "name");
    // A wrong answer next to a good one for an unknown key: still refused as a whole.
    let a = c
        .update(&id, json!({"name": {"roots": 1}, "other": {"x": 1}}))
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    // A non-object under a key nobody asked for is malformed too.
    let a = c.update(&id, json!({"never-asked": 7})).await;
    assert_eq!(code(&a), -32602, "{a}");

    // Keys that are not outstanding: acknowledged, ignored; the task still waits.
    let a = c
        .update(&id, json!({"never-asked": {"action": "accept"}}))
        .await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let same = c.get(&id).await;
    assert_eq!(same["result"]["status"], "input_required");
    assert_eq!(same["result"]["inputRequests"], waiting["inputRequests"]);
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 0);

    // Unknown tasks and a missing id: -32602 on every method.
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let a = c
            .call(
                method,
                json!({"taskId": "no-such-task", "inputResponses": {}}),
                caps(),
            )
            .await;
        assert_eq!(code(&a), -32602, "{method}: {a}");
        let a = c.call(method, json!({"inputResponses": {}}), caps()).await;
        assert_eq!(code(&a), -32602, "{method} without taskId: {a}");
    }
    // Without the extension: -32021.
    let a = c
        .call(
            "tasks/update",
            json!({"taskId": id, "inputResponses": {"name": accept("X")}}),
            json!({"elicitation": {}}),
        )
        .await;
    assert_eq!(code(&a), -32021, "{a}");

    // The right answer still completes it (a decline is an answer too).
    let a = c.update(&id, json!({"name": {"action": "decline"}})).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "Hello, nobody!");
}

#[tokio::test]
async fn asks_one_after_the_other_use_distinct_keys_and_return_to_working_between() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("two_steps").await;
    let first = c.wait_for(&id, "input_required").await;
    assert_eq!(
        first["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["name"]
    );
    c.update(&id, json!({"name": accept("Ada")})).await;
    // The next ask has its own (generated) key; the answered one is gone.
    let mut second = Value::Null;
    for _ in 0..300 {
        let got = c.get(&id).await["result"].clone();
        if got["status"] == "input_required" && got["inputRequests"].get("roots-1").is_some() {
            second = got;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        second["inputRequests"],
        json!({"roots-1": {"method": "roots/list", "params": {}}}),
        "{second}"
    );
    validate_2026("InputRequests", &second["inputRequests"]);
    // Re-answering the first key does nothing; the roots answer must be a ListRootsResult.
    let a = c
        .update(
            &id,
            json!({"name": accept("Eve"), "roots-1": {"roots": "nope"}}),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    let a = c
        .update(
            &id,
            json!({"name": accept("Eve"), "roots-1": {"roots": [{"uri": "file:///w"}]}}),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "Ada: file:///w");
}

#[tokio::test]
async fn two_asks_at_once_may_be_answered_one_at_a_time() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("pair").await;
    let mut both = Value::Null;
    for _ in 0..300 {
        let got = c.get(&id).await["result"].clone();
        if got["inputRequests"]
            .as_object()
            .is_some_and(|m| m.len() == 2)
        {
            both = got;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(both["status"], "input_required", "{both}");
    assert_eq!(
        both["inputRequests"]["llm"]["method"],
        "sampling/createMessage"
    );
    assert_eq!(
        both["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    validate_2026("InputRequests", &both["inputRequests"]);

    // A subset: acknowledged; the task stays input_required with only the other key.
    let a = c.update(&id, json!({"name": accept("Kim")})).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let partial = c.get(&id).await["result"].clone();
    assert_eq!(partial["status"], "input_required", "{partial}");
    assert_eq!(
        partial["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["llm"]
    );
    // A sampling answer that is not a CreateMessageResult: -32602, still waiting.
    let a = c.update(&id, json!({"llm": {"role": "assistant"}})).await;
    assert_eq!(code(&a), -32602, "{a}");
    let a = c
        .update(
            &id,
            json!({"llm": {"role": "assistant", "model": "m", "content": {"type": "text", "text": "teal"}}}),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "Kim likes teal");
}

#[tokio::test]
async fn a_task_waiting_for_input_can_be_cancelled_and_its_handler_stops() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("greet").await;
    c.wait_for(&id, "input_required").await;
    let a = c.call("tasks/cancel", json!({"taskId": id}), caps()).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let got = c.get(&id).await;
    assert_eq!(got["result"]["status"], "cancelled", "{got}");
    assert!(got["result"].get("inputRequests").is_none(), "{got}");
    // A late answer is acknowledged and goes nowhere.
    let a = c.update(&id, json!({"name": accept("Late")})).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        fx.resumed.load(Ordering::SeqCst),
        0,
        "the handler was stopped"
    );
    assert_eq!(c.get(&id).await["result"]["status"], "cancelled");
}

#[tokio::test]
async fn a_task_waiting_for_input_still_expires_at_its_ttl() {
    let fx = fixture(TaskLimits {
        default_ttl_ms: 300,
        ..TaskLimits::default()
    });
    let mut c = Modern::start(&fx.server);
    let id = c.create("greet").await;
    let waiting = c.wait_for(&id, "input_required").await;
    assert_eq!(waiting["ttlMs"], 300);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let gone = c.get(&id).await;
    assert_eq!(code(&gone), -32602, "{gone}");
    let a = c.update(&id, json!({"name": accept("Late")})).await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_json_rpc_error_fails_the_task_with_its_error() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("fails").await;
    let failed = c.wait_for(&id, "failed").await;
    assert_eq!(failed["error"]["code"], -32603, "{failed}");
    // An ask for a capability the tools/call did not declare fails inside the handler.
    let a = c
        .call(
            "tools/call",
            json!({"name": "greet", "arguments": {}}),
            json!({"extensions": {EXT: {}}}),
        )
        .await;
    let id = a["result"]["taskId"].as_str().unwrap().to_owned();
    let failed = c.wait_for(&id, "failed").await;
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("elicitation"),
        "{failed}"
    );
}

/// Receives frames on `peer` until one is `notifications/tasks` with `status`.
async fn task_note(peer: &mut RawPeer, status: &str, seen: &mut Vec<Value>) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), peer.recv())
            .await
            .unwrap_or_else(|_| panic!("no {status} notification; saw {seen:?}"));
        seen.push(frame.clone());
        if frame["method"] == "notifications/tasks" && frame["params"]["status"] == status {
            return frame;
        }
    }
}

#[tokio::test]
async fn listen_streams_get_notifications_tasks_for_the_task_ids_they_asked_for() {
    let fx = fixture(TaskLimits::default());
    let mut c = Modern::start(&fx.server);
    let id = c.create("greet_later").await;
    let other = c.create("greet").await;

    // Asking for task ids without declaring the extension: -32021 naming it.
    let mut refused = RawPeer::start(&fx.server);
    let (a, _) = refused
        .request(
            json!("l0"),
            "subscriptions/listen",
            json!({"_meta": meta(json!({})), "notifications": {"taskIds": [id]}}),
        )
        .await;
    assert_eq!(code(&a), -32021, "{a}");
    assert_eq!(
        a["error"]["data"]["requiredCapabilities"]["extensions"],
        json!({EXT: {}})
    );

    let mut l = RawPeer::start(&fx.server);
    l.send(
        json!({"jsonrpc": "2.0", "id": "l1", "method": "subscriptions/listen", "params": {
            "_meta": meta(caps()),
            "notifications": {"taskIds": [id, "no-such-task", id]},
        }}),
    )
    .await;
    let ack = l.recv().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"taskIds": [id]}),
        "{ack}"
    );
    validate_2026("SubscriptionsAcknowledgedNotification", &ack);
    for _ in 0..100 {
        if fx.server.listener_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fx.server.listener_count(), 1);

    // The handler asks now: input_required with the request, then working, then completed.
    fx.gate.notify_one();
    let mut seen = Vec::new();
    let asked = task_note(&mut l, "input_required", &mut seen).await;
    assert_eq!(asked["params"]["taskId"], id.as_str());
    assert_eq!(
        asked["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "l1"
    );
    assert_eq!(
        asked["params"]["inputRequests"]["name"]["method"], "elicitation/create",
        "{asked}"
    );
    assert!(asked["params"].get("resultType").is_none(), "{asked}");
    // What the stream shows is what tasks/get shows.
    let polled = c.get(&id).await["result"].clone();
    assert_eq!(polled["inputRequests"], asked["params"]["inputRequests"]);
    assert_eq!(polled["lastUpdatedAt"], asked["params"]["lastUpdatedAt"]);

    c.update(&id, json!({"name": accept("Luca")})).await;
    task_note(&mut l, "working", &mut seen).await;
    let done = task_note(&mut l, "completed", &mut seen).await;
    assert_eq!(
        done["params"]["result"]["content"][0]["text"], "Hello, Luca!",
        "{done}"
    );
    // Nothing about the task nobody listens to, and no progress or log messages.
    c.wait_for(&other, "input_required").await;
    c.update(&other, json!({"name": accept("Quiet")})).await;
    c.wait_for(&other, "completed").await;
    while let Some(frame) = l.try_recv(Duration::from_millis(200)).await {
        seen.push(frame);
    }
    for frame in &seen {
        assert_eq!(frame["method"], "notifications/tasks", "{frame}");
        assert_eq!(frame["params"]["taskId"], id.as_str(), "{frame}");
    }

    // Unknown ids only: acknowledged with none.
    let mut l2 = RawPeer::start(&fx.server);
    l2.send(
        json!({"jsonrpc": "2.0", "id": "l2", "method": "subscriptions/listen", "params": {
            "_meta": meta(caps()),
            "notifications": {"taskIds": ["nope"], "toolsListChanged": true},
        }}),
    )
    .await;
    let ack = l2.recv().await;
    assert_eq!(
        ack["params"]["notifications"],
        json!({"taskIds": [], "toolsListChanged": true}),
        "{ack}"
    );
}

/// A client with `.tasks()` declares the extension, polls the task the server answers
/// `tools/call` with, answers its input once per key with its own handlers and returns
/// the final result; without `.tasks()` the same tool runs inline (input-required
/// rounds). A failing handler fails the call.
#[tokio::test]
async fn the_client_drives_a_task_and_answers_its_input_with_its_handlers() {
    use erlmcp_codec::schema::{ElicitResult, Root};
    use erlmcp_protocol::{ClientBuilder, ClientMode};

    let fx = fixture(TaskLimits {
        poll_interval_ms: 20,
        ..TaskLimits::default()
    });
    let asked = Arc::new(AtomicUsize::new(0));
    let client = |tasks: bool, fail: bool| {
        let asked = asked.clone();
        let builder = ClientBuilder::new("tasks-client", "1")
            .mode(ClientMode::Modern)
            .elicitation(move |_p| {
                let asked = asked.clone();
                async move {
                    asked.fetch_add(1, Ordering::SeqCst);
                    if fail {
                        return Err(HandlerError::internal("no user here"));
                    }
                    Ok(serde_json::from_value::<ElicitResult>(
                        json!({"action": "accept", "content": {"name": "Grace"}}),
                    )
                    .unwrap())
                }
            })
            .roots(vec![Root::new("file:///g")]);
        if tasks { builder.tasks() } else { builder }
    };
    let connect = |builder: ClientBuilder| {
        let (server_side, client_side) = erlmcp_transport::memory_pair(1 << 20, 256 * 1024);
        tokio::spawn(fx.server.serve(server_side));
        async move { builder.connect(client_side).await.expect("connect") }
    };
    let text = |r: &CallToolResult| r.content[0].as_text().unwrap_or_default().to_owned();

    let tasked = connect(client(true, false)).await;
    let r = tasked.call_tool("greet", json!({})).await.expect("greet");
    assert_eq!(text(&r), "Hello, Grace!");
    assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once per key");
    let r = tasked
        .call_tool("two_steps", json!({}))
        .await
        .expect("two steps");
    assert_eq!(text(&r), "Grace: file:///g");
    let failed = tasked.call_tool("fails", json!({})).await.unwrap_err();
    assert_eq!(
        failed.rpc_error().map(|e| e.code.code()),
        Some(-32603),
        "{failed}"
    );
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 1);

    let inline = connect(client(false, false)).await;
    let r = inline
        .call_tool("greet", json!({}))
        .await
        .expect("inline greet");
    assert_eq!(text(&r), "Hello, Grace!");

    let refusing = connect(client(true, true)).await;
    let err = refusing.call_tool("greet", json!({})).await.unwrap_err();
    let message = err
        .rpc_error()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(message.contains("no user here"), "{err}");
    // The inline greet resumed (its second round); the refused task never did.
    assert_eq!(fx.resumed.load(Ordering::SeqCst), 2);
}
