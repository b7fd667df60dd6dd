//! The stdio transport over a real process's stdin and stdout.
//!
//! This test has no libtest harness (`harness = false` in Cargo.toml), because libtest
//! prints to stdout and stdout here must carry protocol only. The binary plays two roles:
//! run normally it is the client, spawning itself with `ERLMCP_TRANSPORT_TEST_ROLE=echo`
//! through a [`ChildProcessTransport`]; in the child it is an echo server on
//! [`StdioTransport`] that logs to stderr.

mod common;

use bytes::Bytes;
use common::{bounded, frame, next_message, padded_frame};
use erlmcp_transport::{
    ChildOptions, ChildProcessTransport, Frame, FrameReader, FrameWriter, StderrMode,
    StdioTransport, Transport, TransportKind,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const ROLE: &str = "ERLMCP_TRANSPORT_TEST_ROLE";
/// The echo server's frame limit.
const SERVER_MAX: usize = 1024;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::var_os(ROLE).is_some() {
        runtime.block_on(echo_server());
        return;
    }
    runtime.block_on(bounded(stdio_server_round_trip()));
    println!("test stdio_server_round_trip ... ok");
}

/// Echoes every frame; answers an oversized one with `{"oversized":len}`; ends on EOF.
async fn echo_server() {
    eprintln!("echo server: logs go to stderr");
    let transport = StdioTransport::new(SERVER_MAX).with_read_capacity(256);
    assert_eq!(transport.info().kind, TransportKind::Stdio);
    let (mut rx, mut tx) = transport.split();
    while let Some(frame) = rx.next_frame().await {
        let reply = match frame {
            Ok(Frame::Message(message)) => message.freeze(),
            Ok(Frame::Oversized { len }) => Bytes::from(format!(r#"{{"oversized":{len}}}"#)),
            Err(err) => {
                eprintln!("echo server: read failed: {err:?}");
                std::process::exit(2);
            }
        };
        if let Err(err) = tx.write_batch(&[reply]).await {
            eprintln!("echo server: write failed: {err:?}");
            std::process::exit(3);
        }
    }
    eprintln!("echo server: stdin closed, exiting");
    tx.close().await.expect("flush stdout");
}

async fn stdio_server_round_trip() {
    let exe = std::env::current_exe().expect("current exe");
    let mut command = Command::new(exe);
    command.env(ROLE, "echo");
    let options = ChildOptions::new(1024 * 1024).stderr(StderrMode::Piped);
    let mut transport = ChildProcessTransport::spawn_with(&mut command, options).expect("spawn");
    let mut log = BufReader::new(transport.take_stderr().expect("stderr")).lines();
    let exit = transport.exit();
    let (mut rx, mut tx) = transport.split();

    let mut batch: Vec<Bytes> = (0..100).map(frame).collect();
    batch.push(padded_frame(100, 5000));
    batch.push(frame(101));
    tx.write_batch(&batch).await.expect("write");
    for i in 0..100 {
        assert_eq!(next_message(&mut rx).await, frame(i));
    }
    assert_eq!(&next_message(&mut rx).await[..], br#"{"oversized":5000}"#);
    assert_eq!(next_message(&mut rx).await, frame(101));

    // Closing the child's stdin is EOF on the server's stdin: it ends cleanly.
    tx.close().await.expect("close");
    assert!(rx.next_frame().await.is_none(), "server exited");
    let status = exit.wait().await.expect("exit status");
    assert!(status.success(), "{status}");

    let mut lines = Vec::new();
    while let Some(line) = log.next_line().await.expect("read stderr") {
        lines.push(line);
    }
    assert_eq!(
        lines,
        [
            "echo server: logs go to stderr",
            "echo server: stdin closed, exiting"
        ]
    );
}
