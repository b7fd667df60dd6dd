//! Malformed input through `Message::parse`: every kind of failure gets the right
//! JSON-RPC code (-32700 for bytes that are not JSON, -32600 for JSON that is not a
//! message) and keeps the request id whenever it could be read. Property tests feed
//! arbitrary bytes and arbitrary JSON values and compare with an independent statement
//! of the rules. (-32601/-32602/-32603 are the engine's business, not the codec's.)
//!
//! Also: the four message kinds serialise to exactly the expected JSON and parse back.

use erlmcp_codec::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, ParseErrorKind, Request,
    RequestId, Response,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Parses a frame and reduces a failure to (code, kind, id).
fn parse(bytes: &[u8]) -> Result<Message, (i32, ParseErrorKind, Option<RequestId>)> {
    let mut buf = bytes.to_vec();
    Message::parse(&mut buf).map_err(|e| {
        let code = e.to_error_object().code.code();
        assert_eq!(code, e.kind().code().code());
        (code, e.kind(), e.id().cloned())
    })
}

fn parse_value(value: &Value) -> Result<Message, (i32, ParseErrorKind, Option<RequestId>)> {
    parse(&serde_json::to_vec(value).expect("serialise"))
}

const PARSE: i32 = -32700;
const INVALID: i32 = -32600;

// ---------------------------------------------------------------------------------------
// Not JSON: -32700
// ---------------------------------------------------------------------------------------

#[test]
fn bytes_that_are_not_json_are_parse_errors() {
    let cases: &[&[u8]] = &[
        b"",
        b"   ",
        b"{",
        b"}",
        b"nul",
        b"{'jsonrpc': '2.0'}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi",
        b"{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"ping\"}",
        b"{\"a\":NaN}",
        b"\xff\xfe\xfd",
        b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}",
        b"{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\"}",
        b"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
    ];
    for case in cases {
        match parse(case) {
            Err((code, kind, id)) => {
                assert_eq!(code, PARSE, "{:?}", String::from_utf8_lossy(case));
                assert_eq!(kind, ParseErrorKind::InvalidJson);
                assert_eq!(id, None);
            }
            Ok(m) => panic!("{:?} parsed as {m:?}", String::from_utf8_lossy(case)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON but not a message: -32600, id kept when readable
// ---------------------------------------------------------------------------------------

#[test]
fn json_that_is_not_a_message_is_an_invalid_request() {
    use ParseErrorKind::*;
    let num = |n: i64| Some(RequestId::Number(n));
    let s = |v: &str| Some(RequestId::from(v));
    let cases: Vec<(Value, ParseErrorKind, Option<RequestId>)> = vec![
        // Not an object.
        (json!([]), BatchNotSupported, None),
        (
            json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]),
            BatchNotSupported,
            None,
        ),
        (json!(42), NotAnObject, None),
        (json!(4.5), NotAnObject, None),
        (json!("ping"), NotAnObject, None),
        (json!(null), NotAnObject, None),
        (json!(true), NotAnObject, None),
        // `jsonrpc` missing or wrong; the id is still reported.
        (json!({"id": 5, "method": "ping"}), BadVersion, num(5)),
        (
            json!({"jsonrpc": "1.0", "id": "a", "method": "ping"}),
            BadVersion,
            s("a"),
        ),
        (
            json!({"jsonrpc": 2.0, "id": 6, "method": "ping"}),
            BadVersion,
            num(6),
        ),
        (
            json!({"jsonrpc": null, "id": 7, "method": "ping"}),
            BadVersion,
            num(7),
        ),
        (
            json!({"jsonrpc": "2.0 ", "method": "ping"}),
            BadVersion,
            None,
        ),
        // Unreadable ids: reported without an id.
        (
            json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 1.0, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": true, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": {}, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": [1], "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": u64::MAX, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": null, "method": "ping"}),
            BadId,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": null, "result": {}}),
            BadId,
            None,
        ),
        (json!({"jsonrpc": "2.0", "result": {}}), BadId, None),
        // `method` not a string.
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": 5}),
            BadMethod,
            num(1),
        ),
        (
            json!({"jsonrpc": "2.0", "id": "x", "method": null}),
            BadMethod,
            s("x"),
        ),
        (
            json!({"jsonrpc": "2.0", "method": ["ping"]}),
            BadMethod,
            None,
        ),
        // `params` neither object nor array.
        (
            json!({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": "x"}),
            BadParams,
            num(2),
        ),
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "ping", "params": 3}),
            BadParams,
            num(3),
        ),
        (
            json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": true}),
            BadParams,
            None,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 4, "method": "ping", "params": null}),
            BadParams,
            num(4),
        ),
        // Malformed error objects.
        (
            json!({"jsonrpc": "2.0", "id": 8, "error": "boom"}),
            BadErrorObject,
            num(8),
        ),
        (
            json!({"jsonrpc": "2.0", "id": 9, "error": {"message": "no code"}}),
            BadErrorObject,
            num(9),
        ),
        (
            json!({"jsonrpc": "2.0", "id": 10, "error": {"code": 1.5, "message": "m"}}),
            BadErrorObject,
            num(10),
        ),
        (
            json!({"jsonrpc": "2.0", "id": 11, "error": {"code": 1}}),
            BadErrorObject,
            num(11),
        ),
        // Nothing that makes it a message.
        (json!({"jsonrpc": "2.0", "id": 12}), NotAMessage, num(12)),
        (
            json!({"jsonrpc": "2.0", "id": "q", "params": {}}),
            NotAMessage,
            s("q"),
        ),
        (json!({"jsonrpc": "2.0"}), NotAMessage, None),
    ];
    for (value, kind, id) in cases {
        match parse_value(&value) {
            Err((code, got_kind, got_id)) => {
                assert_eq!(code, INVALID, "{value}");
                assert_eq!(got_kind, kind, "{value}");
                assert_eq!(got_id, id, "{value}");
            }
            Ok(m) => panic!("{value} parsed as {m:?}"),
        }
    }
}

#[test]
fn parse_errors_become_addressed_error_responses() {
    let err = parse_value(&json!({"jsonrpc": "1.0", "id": 7, "method": "ping"}));
    let mut buf = serde_json::to_vec(&json!({"jsonrpc": "1.0", "id": 7, "method": "ping"}))
        .expect("serialise");
    let parse_error = Message::parse(&mut buf).expect_err("must fail");
    assert!(matches!(err, Err((INVALID, ParseErrorKind::BadVersion, _))));
    let response = Message::Error(ErrorResponse::from(parse_error));
    let json: Value = serde_json::from_slice(&response.to_vec()).expect("JSON");
    assert_eq!(json["jsonrpc"], "2.0");
    assert_eq!(json["id"], 7);
    assert_eq!(json["error"]["code"], -32600);
    assert!(json["error"]["message"].is_string());

    let mut garbage = b"{oops".to_vec();
    let parse_error = Message::parse(&mut garbage).expect_err("must fail");
    let json: Value =
        serde_json::from_slice(&Message::Error(ErrorResponse::from(parse_error)).to_vec())
            .expect("JSON");
    assert_eq!(json["id"], Value::Null);
    assert_eq!(json["error"]["code"], -32700);
}

// ---------------------------------------------------------------------------------------
// Well-formed messages: exact JSON out, same message back in
// ---------------------------------------------------------------------------------------

fn assert_exact(message: Message, expected: &str) {
    let bytes = message.to_vec();
    assert_eq!(std::str::from_utf8(&bytes).expect("UTF-8"), expected);
    let mut out = Vec::new();
    message.write_to(&mut out);
    assert_eq!(out, bytes);
    let mut buf = bytes.clone();
    assert_eq!(Message::parse(&mut buf).expect("parses back"), message);
}

#[test]
fn messages_serialise_exactly_and_parse_back() {
    assert_exact(
        Message::Request(Request {
            id: RequestId::Number(1),
            method: "tools/call".into(),
            // Keys in sorted order, so the text is the same with or without
            // serde_json's `preserve_order`.
            params: Some(json!({"arguments": {"text": "hi"}, "name": "echo"})),
        }),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"text":"hi"},"name":"echo"}}"#,
    );
    assert_exact(
        Message::Request(Request {
            id: RequestId::from("req-1"),
            method: "ping".into(),
            params: None,
        }),
        r#"{"jsonrpc":"2.0","id":"req-1","method":"ping"}"#,
    );
    assert_exact(
        Message::Notification(Notification {
            method: "notifications/initialized".into(),
            params: None,
        }),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_exact(
        Message::Notification(Notification {
            method: "notifications/progress".into(),
            params: Some(json!({"progressToken": "t", "progress": 50})),
        }),
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":50,"progressToken":"t"}}"#,
    );
    assert_exact(
        Message::Response(Response {
            id: RequestId::from("abc"),
            result: json!({}),
        }),
        r#"{"jsonrpc":"2.0","id":"abc","result":{}}"#,
    );
    assert_exact(
        Message::Error(ErrorResponse::new(
            Some(RequestId::Number(-3)),
            ErrorCode::METHOD_NOT_FOUND,
            "no such method",
        )),
        r#"{"jsonrpc":"2.0","id":-3,"error":{"code":-32601,"message":"no such method"}}"#,
    );
    assert_exact(
        Message::Error(ErrorResponse {
            id: None,
            error: ErrorObject::new(ErrorCode::PARSE_ERROR, "Parse error")
                .with_data(json!({"at": 3})),
        }),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":{"at":3}}}"#,
    );
}

#[test]
fn typed_params_fit_the_envelope() {
    use erlmcp_codec::schema::{CallToolRequestParams, CallToolResult, McpRequest, methods};
    let params = CallToolRequestParams::new("echo", None);
    let request = Message::Request(Request {
        id: RequestId::Number(9),
        method: <erlmcp_codec::schema::CallTool as McpRequest>::METHOD.into(),
        params: Some(serde_json::to_value(&params).expect("params")),
    });
    let mut buf = request.to_vec();
    let Ok(Message::Request(back)) = Message::parse(&mut buf) else {
        panic!("not a request")
    };
    assert_eq!(back.method, methods::TOOLS_CALL);
    let typed: CallToolRequestParams =
        serde_json::from_value(back.params.expect("params")).expect("typed params");
    assert_eq!(typed, params);
    let response = Message::Response(Response {
        id: back.id,
        result: serde_json::to_value(CallToolResult::text("ok")).expect("result"),
    });
    let json: Value = serde_json::from_slice(&response.to_vec()).expect("JSON");
    assert_eq!(
        json,
        json!({"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": "ok"}]}})
    );
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

type Expected = Result<Message, (ParseErrorKind, Option<RequestId>)>;

/// The classification rules, stated independently of the implementation.
fn expected(value: &Value) -> Expected {
    use ParseErrorKind::*;
    let object = match value {
        Value::Object(o) => o,
        Value::Array(_) => return Err((BatchNotSupported, None)),
        _ => return Err((NotAnObject, None)),
    };
    // The id is read first: integers within i64 and strings only.
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().map(RequestId::Number),
        Some(Value::String(s)) => Some(RequestId::from(s.as_str())),
        Some(_) => return Err((BadId, None)),
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err((BadVersion, id));
    }
    if let Some(method) = object.get("method") {
        let Value::String(method) = method else {
            return Err((BadMethod, id));
        };
        let params = match object.get("params") {
            None => None,
            Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p.clone()),
            Some(_) => return Err((BadParams, id)),
        };
        return match (object.get("id"), id) {
            (None, _) => Ok(Message::Notification(Notification {
                method: method.clone(),
                params,
            })),
            (Some(_), Some(id)) => Ok(Message::Request(Request {
                id,
                method: method.clone(),
                params,
            })),
            (Some(_), None) => Err((BadId, None)),
        };
    }
    if let Some(error) = object.get("error") {
        let valid = error.as_object().is_some_and(|e| {
            e.get("code")
                .and_then(Value::as_i64)
                .is_some_and(|c| i32::try_from(c).is_ok())
                && e.get("message").is_some_and(Value::is_string)
        });
        if !valid {
            return Err((BadErrorObject, id));
        }
        let error: ErrorObject = serde_json::from_value(error.clone()).expect("valid error");
        return Ok(Message::Error(ErrorResponse { id, error }));
    }
    if let Some(result) = object.get("result") {
        return match id {
            Some(id) => Ok(Message::Response(Response {
                id,
                result: result.clone(),
            })),
            None => Err((BadId, None)),
        };
    }
    Err((NotAMessage, id))
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("jsonrpc".to_owned()),
        Just("id".to_owned()),
        Just("method".to_owned()),
        Just("params".to_owned()),
        Just("result".to_owned()),
        Just("error".to_owned()),
        Just("code".to_owned()),
        Just("message".to_owned()),
        "[a-z]{1,4}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        "[ -~]{0,8}".prop_map(Value::from),
        Just(json!("2.0")),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects shaped like messages, with every member right or wrong in the ways that
/// matter.
fn message_like() -> impl Strategy<Value = Value> {
    let jsonrpc = prop_oneof![
        4 => Just(json!("2.0")),
        1 => Just(json!("1.0")),
        1 => Just(json!(2.0)),
        1 => Just(Value::Null),
    ];
    let id = prop_oneof![
        any::<i64>().prop_map(Value::from),
        "[a-z0-9-]{0,6}".prop_map(Value::from),
        Just(json!(1.5)),
        Just(json!(true)),
        Just(Value::Null),
        Just(json!({"a": 1})),
        Just(json!([1])),
        Just(json!(u64::MAX)),
    ];
    let method = prop_oneof![
        4 => "[a-z/]{0,12}".prop_map(Value::from),
        1 => Just(json!(5)),
        1 => Just(Value::Null),
    ];
    let params = prop_oneof![
        Just(json!({})),
        json_value().prop_map(|v| json!({"v": v})),
        Just(json!([1, 2])),
        Just(json!("x")),
        Just(json!(3)),
        Just(Value::Null),
    ];
    let error = prop_oneof![
        Just(json!({"code": -32601, "message": "m"})),
        Just(json!({"code": 1, "message": "m", "data": [1]})),
        Just(json!({"code": 1.5, "message": "m"})),
        Just(json!({"code": 4_294_967_296_i64, "message": "m"})),
        Just(json!({"message": "m"})),
        Just(json!({"code": 1, "message": 2})),
        Just(json!("boom")),
    ];
    (
        prop::option::weighted(0.9, jsonrpc),
        prop::option::of(id),
        prop::option::of(method),
        prop::option::of(params),
        prop::option::weighted(0.3, json_value()),
        prop::option::weighted(0.3, error),
        prop::option::weighted(0.2, json_value()),
    )
        .prop_map(|(jsonrpc, id, method, params, result, error, extra)| {
            let mut m = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            };
            put("jsonrpc", jsonrpc);
            put("id", id);
            put("method", method);
            put("params", params);
            put("result", result);
            put("error", error);
            put("extra", extra);
            Value::Object(m)
        })
}

fn check_against_rules(value: &Value) -> Result<(), TestCaseError> {
    let got = parse_value(value);
    match (got, expected(value)) {
        (Ok(g), Ok(e)) => prop_assert_eq!(g, e, "{}", value),
        (Err((code, kind, id)), Err((ekind, eid))) => {
            prop_assert_eq!(code, INVALID, "{}", value);
            prop_assert_eq!(kind, ekind, "{}", value);
            prop_assert_eq!(id, eid, "{}", value);
        }
        (got, want) => prop_assert!(false, "{value}: got {got:?}, want {want:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic; they are -32700 exactly when they are not JSON.
    #[test]
    fn arbitrary_bytes_are_classified(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let is_json = serde_json::from_slice::<Value>(&bytes).is_ok();
        match parse(&bytes) {
            Err((code, kind, id)) if !is_json => {
                prop_assert_eq!(code, PARSE);
                prop_assert_eq!(kind, ParseErrorKind::InvalidJson);
                prop_assert_eq!(id, None);
            }
            other => {
                prop_assert!(is_json, "not JSON but {:?}", other);
                let value: Value = serde_json::from_slice(&bytes).expect("JSON");
                check_against_rules(&value)?;
            }
        }
    }

    /// Valid JSON texts cut short or with a byte flipped: never a panic, and -32700
    /// exactly when the result is no longer JSON.
    #[test]
    fn damaged_json_is_classified(
        value in message_like(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        mode in 0u8..3,
    ) {
        let mut bytes = serde_json::to_vec(&value).expect("serialise");
        match mode {
            0 => bytes.truncate(cut.index(bytes.len())),
            1 => { let i = flip.index(bytes.len()); bytes[i] = byte; }
            _ => bytes.push(byte),
        }
        let is_json = serde_json::from_slice::<Value>(&bytes).is_ok();
        match parse(&bytes) {
            Err((code, ..)) if !is_json => prop_assert_eq!(code, PARSE),
            _ if !is_json => prop_assert!(false, "accepted invalid JSON {:?}", String::from_utf8_lossy(&bytes)),
            _ => {
                let value: Value = serde_json::from_slice(&bytes).expect("JSON");
                check_against_rules(&value)?;
            }
        }
    }

    /// Arbitrary JSON values follow the classification rules.
    #[test]
    fn arbitrary_json_is_classified(value in json_value()) {
        check_against_rules(&value)?;
    }

    /// Message-shaped objects follow the classification rules, ids included.
    #[test]
    fn message_like_objects_are_classified(value in message_like()) {
        check_against_rules(&value)?;
    }
}
