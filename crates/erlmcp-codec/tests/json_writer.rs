//! The fast JSON writer must produce exactly serde_json's compact output: peers and tests
//! compare bytes, and the envelope's `Serialize` impls stay the reference.

use erlmcp_codec::json::{write_str, write_value};
use erlmcp_codec::{ErrorCode, ErrorResponse, Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};

fn ours(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

fn assert_same(value: &Value) {
    let reference = serde_json::to_vec(value).expect("serde_json serialises every Value");
    assert_eq!(
        String::from_utf8_lossy(&ours(value)),
        String::from_utf8_lossy(&reference),
        "for {value:?}"
    );
}

#[test]
fn every_ascii_and_control_character_is_escaped_like_serde_json() {
    for byte in 0u8..0x80 {
        let c = char::from(byte);
        assert_same(&Value::String(c.to_string()));
        // The same character inside and at the edges of a long run (block scanning).
        for len in [31usize, 32, 33, 64, 65, 100] {
            for at in [0, len / 2, len - 1] {
                let mut s: Vec<char> = std::iter::repeat_n('a', len).collect();
                s[at] = c;
                assert_same(&Value::String(s.into_iter().collect()));
            }
        }
    }
}

#[test]
fn non_ascii_text_is_copied_unescaped() {
    let text = "héllo wörld — 日本語 🦀 \u{7f} \u{2028}".repeat(20);
    assert_same(&Value::String(text.clone()));
    let mut out = Vec::new();
    write_str(&mut out, &text);
    assert_eq!(out.len(), text.len() + 2, "nothing escaped");
}

#[test]
fn numbers_structures_and_keys_match_serde_json() {
    assert_same(&json!(null));
    assert_same(&json!(true));
    assert_same(&json!(false));
    for n in [
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
    ] {
        assert_same(&n);
    }
    for f in [0.1f64, -0.0, 1e300, 2.5e-308, 123_456_789.123] {
        assert_same(&json!(f));
    }
    assert_same(&json!({}));
    assert_same(&json!([]));
    assert_same(&json!({
        "content": [{"type": "text", "text": "line\none\t\"quoted\" \\ back"}],
        "key \"with\" quotes\n": [1, [2, [3, {"deep": null}]], "x"],
        "structuredContent": {"sum": 3.25, "ok": true, "list": []},
        "": ""
    }));
}

#[test]
fn every_message_kind_is_written_as_its_serialize_impl_writes_it() {
    let big = "x\"y\\z\u{1}".repeat(300);
    let messages = [
        Message::Request(Request {
            id: RequestId::Number(7),
            method: "tools/call".into(),
            params: Some(json!({"name": "echo", "arguments": {"text": big}})),
        }),
        Message::Request(Request {
            id: RequestId::from("a \"string\" id"),
            method: "ping".into(),
            params: None,
        }),
        Message::Notification(Notification {
            method: "notifications/progress".into(),
            params: Some(json!({"progressToken": 1, "progress": 0.5})),
        }),
        Message::Notification(Notification {
            method: "notifications/initialized".into(),
            params: None,
        }),
        Message::Response(Response {
            id: RequestId::Number(-3),
            result: json!({"content": [{"type": "text", "text": big}]}),
        }),
        Message::Error(ErrorResponse::new(
            Some(RequestId::from("e")),
            ErrorCode::INVALID_PARAMS,
            "bad \"params\"",
        )),
        Message::Error(ErrorResponse::new(None, ErrorCode::PARSE_ERROR, "parse")),
    ];
    for message in &messages {
        let reference = serde_json::to_vec(message).expect("serialise");
        assert_eq!(
            String::from_utf8_lossy(&message.to_vec()),
            String::from_utf8_lossy(&reference)
        );
        let mut appended = b"prefix".to_vec();
        message.write_to(&mut appended);
        assert_eq!(&appended[6..], &reference[..]);
    }
}
