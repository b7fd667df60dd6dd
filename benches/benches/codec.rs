//! Codec micro-benchmarks: a 4 KB `tools/call` request through `Message::parse` /
//! `Message::to_vec`, and through `LineCodec` framing.

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_main};
use erlmcp_codec::{Frame, LineCodec, Message, Request, RequestId};
use serde_json::json;
use std::hint::black_box;
use tokio_util::codec::{Decoder, Encoder};

const PAYLOAD: usize = 4096;

/// A `tools/call echo` request whose JSON text is exactly `PAYLOAD` bytes.
fn request() -> Message {
    let build = |text_len: usize| {
        Message::Request(Request {
            id: RequestId::from(42),
            method: "tools/call".to_owned(),
            params: Some(json!({"name": "echo", "arguments": {"text": "x".repeat(text_len)}})),
        })
    };
    let overhead = build(0).to_vec().len();
    build(PAYLOAD.saturating_sub(overhead))
}

fn codec(c: &mut Criterion) {
    let message = request();
    let encoded = message.to_vec();
    assert_eq!(encoded.len(), PAYLOAD);

    let mut group = c.benchmark_group("codec_4k_tools_call");
    group.throughput(Throughput::Bytes(encoded.len() as u64));

    group.bench_function("message_to_vec", |b| {
        b.iter(|| black_box(&message).to_vec())
    });

    group.bench_function("message_write_to_reused_buffer", |b| {
        let mut out = Vec::with_capacity(PAYLOAD * 2);
        b.iter(|| {
            out.clear();
            black_box(&message).write_to(&mut out);
            black_box(out.len())
        })
    });

    // `parse` may modify its buffer (simd-json parses in place), so each iteration parses
    // a fresh copy; the copy is part of the measured time (a 4 KB memcpy, ~0.1 µs).
    group.bench_function("message_parse", |b| {
        let mut buf = encoded.clone();
        b.iter(|| {
            buf.copy_from_slice(&encoded);
            Message::parse(black_box(&mut buf)).expect("valid request")
        })
    });

    group.bench_function("line_codec_encode", |b| {
        let mut codec = LineCodec::default();
        let mut dst = BytesMut::with_capacity(PAYLOAD * 2);
        b.iter(|| {
            dst.clear();
            codec
                .encode(black_box(&encoded[..]), &mut dst)
                .expect("frame fits");
            black_box(dst.len())
        })
    });

    group.bench_function("line_codec_decode", |b| {
        let mut framed = BytesMut::with_capacity(PAYLOAD + 1);
        LineCodec::default()
            .encode(&encoded[..], &mut framed)
            .expect("frame fits");
        b.iter_batched(
            || (LineCodec::default(), framed.clone()),
            |(mut codec, mut src)| codec.decode(&mut src).expect("no I/O error"),
            BatchSize::SmallInput,
        )
    });

    group.bench_function("frame_decode_and_parse", |b| {
        let mut framed = BytesMut::with_capacity(PAYLOAD + 1);
        LineCodec::default()
            .encode(&encoded[..], &mut framed)
            .expect("frame fits");
        b.iter_batched(
            || (LineCodec::default(), framed.clone()),
            |(mut codec, mut src)| match codec.decode(&mut src) {
                Ok(Some(Frame::Message(mut line))) => Message::parse(&mut line).ok(),
                _ => None,
            },
            BatchSize::SmallInput,
        )
    });

    group.bench_function("message_encode_and_frame", |b| {
        let mut codec = LineCodec::default();
        let mut dst = BytesMut::with_capacity(PAYLOAD * 2);
        b.iter(|| {
            dst.clear();
            let bytes = black_box(&message).to_vec();
            codec.encode(&bytes[..], &mut dst).expect("frame fits");
            black_box(dst.len())
        })
    });

    group.finish();
}

/// The group lives in a private module: `criterion_group!` makes an undocumented `pub fn`.
mod harness {
    use super::codec;
    criterion::criterion_group!(benches, codec);
}

criterion_main!(harness::benches);
