//! Tasks (2025-11-25): task-augmented `tools/call`, polling, results, cancellation,
//! status notifications, `input_required`, TTL expiry and limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{RawPeer, code, object_schema};
use erlmcp_codec::schema::{CallToolResult, JsonObject, TaskSupport, Tool, ToolExecution};
use erlmcp_protocol::{Server, SessionConfig, TaskLimits};
use serde_json::{Value, json};

fn with_support(tool: Tool, support: TaskSupport) -> Tool {
    let mut tool = tool;
    tool.execution = Some(ToolExecution {
        task_support: Some(support),
        ..ToolExecution::default()
    });
    tool
}

struct Fixture {
    server: Server,
    finished: Arc<AtomicUsize>,
}

fn fixture(limits: TaskLimits) -> Fixture {
    let finished = Arc::new(AtomicUsize::new(0));
    let f = finished.clone();
    let server = Server::builder("tasks", "1.0.0")
        .config(SessionConfig {
            tasks: limits,
            ..SessionConfig::default()
        })
        .tool(
            with_support(
                Tool::new(
                    "sleep",
                    object_schema(json!({"ms": {"type": "integer"}}), &["ms"]),
                ),
                TaskSupport::Optional,
            ),
            move |args: JsonObject, _ctx| {
                let f = f.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(0)))
                        .await;
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok(CallToolResult::text("slept"))
                }
            },
        )
        .tool(
            with_support(
                Tool::new("must_task", object_schema(json!({}), &[])),
                TaskSupport::Required,
            ),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::error_text("it went wrong")) },
        )
        .tool(
            Tool::new("plain", object_schema(json!({}), &[])),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::text("plain")) },
        )
        .tool(
            with_support(
                Tool::new("ask", object_schema(json!({}), &[])),
                TaskSupport::Optional,
            ),
            |_a: JsonObject, ctx| async move {
                let params = serde_json::from_value(json!({
                    "mode": "form", "message": "ok?",
                    "requestedSchema": {"type": "object", "properties": {}}
                }))
                .unwrap();
                match ctx.elicit(params).await {
                    Ok(r) => Ok(CallToolResult::text(json!(r.action).to_string())),
                    Err(e) => Ok(CallToolResult::error_text(e.to_string())),
                }
            },
        )
        .build()
        .unwrap();
    Fixture { server, finished }
}

async fn create_task(
    peer: &mut RawPeer,
    id: i64,
    tool: &str,
    args: Value,
    ttl: Option<u64>,
) -> Value {
    let mut params = json!({"name": tool, "arguments": args, "task": {}});
    if let Some(ttl) = ttl {
        params["task"]["ttl"] = json!(ttl);
    }
    let (answer, _) = peer.request(json!(id), "tools/call", params).await;
    assert!(answer["result"]["task"].is_object(), "{answer}");
    answer["result"]["task"].clone()
}

#[tokio::test]
async fn a_task_runs_in_the_background_and_its_result_is_collected() {
    let fx = fixture(TaskLimits::default());
    let mut peer = RawPeer::start(&fx.server);
    let init = peer.initialize().await;
    assert_eq!(
        init["result"]["capabilities"]["tasks"],
        json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
    );
    let task = create_task(&mut peer, 1, "sleep", json!({"ms": 100}), Some(60_000)).await;
    assert_eq!(task["status"], "working");
    assert_eq!(task["ttl"], 60_000);
    assert_eq!(task["pollInterval"], 500);
    let id = task["taskId"].as_str().unwrap().to_owned();

    let (got, _) = peer
        .request(json!(2), "tasks/get", json!({"taskId": id}))
        .await;
    assert_eq!(got["result"]["status"], "working");

    // tasks/result waits for the end; the status notification arrives on the way.
    let (result, notes) = peer
        .request(json!(3), "tasks/result", json!({"taskId": id}))
        .await;
    assert_eq!(result["result"]["content"][0]["text"], "slept");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id
    );
    let statuses: Vec<&Value> = notes
        .iter()
        .filter(|n| n["method"] == "notifications/tasks/status")
        .map(|n| &n["params"]["status"])
        .collect();
    assert_eq!(statuses, [&json!("completed")], "{notes:?}");

    let (got, _) = peer
        .request(json!(4), "tasks/get", json!({"taskId": id}))
        .await;
    assert_eq!(got["result"]["status"], "completed");
    let (list, _) = peer.request(json!(5), "tasks/list", json!({})).await;
    assert_eq!(list["result"]["tasks"].as_array().unwrap().len(), 1);
    // A finished task cannot be cancelled.
    let (cancel, _) = peer
        .request(json!(6), "tasks/cancel", json!({"taskId": id}))
        .await;
    assert_eq!(code(&cancel), -32602);
}

#[tokio::test]
async fn cancelling_a_task_stops_its_handler() {
    let fx = fixture(TaskLimits::default());
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize().await;
    let task = create_task(&mut peer, 1, "sleep", json!({"ms": 30_000}), None).await;
    let id = task["taskId"].as_str().unwrap().to_owned();
    let (cancelled, _) = peer
        .request(json!(2), "tasks/cancel", json!({"taskId": id}))
        .await;
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    let (result, _) = peer
        .request(json!(3), "tasks/result", json!({"taskId": id}))
        .await;
    assert_eq!(code(&result), -32600, "{result}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        fx.finished.load(Ordering::SeqCst),
        0,
        "the handler kept running"
    );
}

#[tokio::test]
async fn tool_errors_make_the_task_failed_and_task_support_is_enforced() {
    let fx = fixture(TaskLimits::default());
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize().await;
    // required: calling without a task is refused.
    let (answer, _) = peer
        .request(json!(1), "tools/call", json!({"name": "must_task"}))
        .await;
    assert_eq!(code(&answer), -32601, "{answer}");
    // forbidden (absent): calling as a task is refused.
    let (answer, _) = peer
        .request(json!(2), "tools/call", json!({"name": "plain", "task": {}}))
        .await;
    assert_eq!(code(&answer), -32601, "{answer}");
    // optional: both work.
    let (answer, _) = peer
        .request(
            json!(3),
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 1}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "slept");

    let task = create_task(&mut peer, 4, "must_task", json!({}), None).await;
    let id = task["taskId"].as_str().unwrap().to_owned();
    let (result, _) = peer
        .request(json!(5), "tasks/result", json!({"taskId": id}))
        .await;
    assert_eq!(result["result"]["isError"], true);
    let (got, _) = peer
        .request(json!(6), "tasks/get", json!({"taskId": id}))
        .await;
    assert_eq!(got["result"]["status"], "failed");
    let (unknown, _) = peer
        .request(json!(7), "tasks/get", json!({"taskId": "nope"}))
        .await;
    assert_eq!(code(&unknown), -32602);
}

#[tokio::test]
async fn tasks_expire_at_their_ttl_and_results_are_retrievable_until_then() {
    let fx = fixture(TaskLimits {
        max_ttl_ms: 400,
        ..TaskLimits::default()
    });
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize().await;
    const N: i64 = 50;
    let mut ids = Vec::new();
    for i in 0..N {
        // Ask for an hour: the server clamps to its maximum.
        let task = create_task(
            &mut peer,
            100 + i,
            "sleep",
            json!({"ms": 1}),
            Some(3_600_000),
        )
        .await;
        assert_eq!(task["ttl"], 400);
        ids.push(task["taskId"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for (i, id) in ids.iter().enumerate() {
        let (result, _) = peer
            .request(json!(1000 + i), "tasks/result", json!({"taskId": id}))
            .await;
        assert_eq!(result["result"]["content"][0]["text"], "slept", "{result}");
    }
    assert_eq!(fx.server.introspect().tasks, N as usize);
    // All gone within the TTL plus a margin.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(400 + 1000);
    while fx.server.introspect().tasks > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fx.server.introspect().tasks, 0);
    let (gone, _) = peer
        .request(json!(9), "tasks/result", json!({"taskId": ids[0]}))
        .await;
    assert_eq!(code(&gone), -32602);
}

#[tokio::test]
async fn the_task_limit_per_session_is_enforced() {
    let fx = fixture(TaskLimits {
        max_tasks_per_session: 3,
        ..TaskLimits::default()
    });
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize().await;
    for i in 0..3 {
        create_task(&mut peer, i, "sleep", json!({"ms": 10_000}), None).await;
    }
    let (answer, _) = peer
        .request(
            json!(9),
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 1}, "task": {}}),
        )
        .await;
    assert_eq!(code(&answer), -32602, "{answer}");
    assert_eq!(answer["error"]["data"]["limit"], 3);
}

#[tokio::test]
async fn a_task_waiting_on_the_client_is_input_required() {
    let fx = fixture(TaskLimits::default());
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize_with(json!({"elicitation": {"form": {}}}))
        .await;
    let task = create_task(&mut peer, 1, "ask", json!({}), None).await;
    let id = task["taskId"].as_str().unwrap().to_owned();
    // The server asks us (the client); the request carries the related task.
    let mut elicit = None;
    let mut statuses = Vec::new();
    while elicit.is_none() {
        let msg = peer.recv().await;
        if msg["method"] == "elicitation/create" {
            elicit = Some(msg);
        } else if msg["method"] == "notifications/tasks/status" {
            statuses.push(msg["params"]["status"].clone());
        }
    }
    let elicit = elicit.unwrap();
    assert_eq!(
        elicit["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id
    );
    let (got, _) = peer
        .request(json!(2), "tasks/get", json!({"taskId": id}))
        .await;
    assert_eq!(got["result"]["status"], "input_required");
    peer.send(json!({"jsonrpc": "2.0", "id": elicit["id"], "result": {"action": "accept", "content": {}}})).await;
    let (result, notes) = peer
        .request(json!(3), "tasks/result", json!({"taskId": id}))
        .await;
    assert_eq!(result["result"]["content"][0]["text"], "\"accept\"");
    statuses.extend(
        notes
            .iter()
            .filter(|n| n["method"] == "notifications/tasks/status")
            .map(|n| n["params"]["status"].clone()),
    );
    assert_eq!(
        statuses,
        [
            json!("input_required"),
            json!("working"),
            json!("completed")
        ]
    );
}

#[tokio::test]
async fn ending_the_session_drops_its_tasks_and_stops_their_handlers() {
    let fx = fixture(TaskLimits::default());
    let mut peer = RawPeer::start(&fx.server);
    peer.initialize().await;
    for i in 0..20 {
        create_task(&mut peer, i, "sleep", json!({"ms": 30_000}), None).await;
    }
    assert_eq!(fx.server.introspect().tasks, 20);
    let RawPeer {
        reader,
        writer,
        session,
    } = peer;
    drop((reader, writer));
    tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        fx.server.introspect(),
        erlmcp_protocol::Introspection::default()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fx.finished.load(Ordering::SeqCst), 0);
}
