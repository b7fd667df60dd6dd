//! The child-process transport against real child processes (`cat`, `sh`, `sleep`).
#![cfg(unix)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use common::{bounded, frame, next_message};
use erlmcp_transport::{
    ChildOptions, ChildProcessTransport, Frame, FrameReader, FrameWriter, StderrMode, Transport,
    TransportError, TransportKind,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const MAX: usize = 1024 * 1024;

/// True while a process with this pid exists (a zombie counts: it is not yet reaped).
fn process_exists(pid: u32) -> bool {
    let proc_entry = Path::new("/proc").join(pid.to_string()).exists();
    let kill_0 = std::process::Command::new("sh")
        .args(["-c", &format!("kill -0 {pid} 2>/dev/null")])
        .status()
        .expect("run sh")
        .success();
    if cfg!(target_os = "linux") {
        assert_eq!(
            proc_entry, kill_0,
            "/proc and kill -0 disagree on pid {pid}"
        );
    }
    kill_0
}

#[tokio::test]
async fn cat_echoes_frames_and_exits_when_stdin_closes() {
    bounded(async {
        let transport =
            ChildProcessTransport::spawn(&mut Command::new("cat"), MAX).expect("spawn cat");
        let pid = transport.pid();
        let info = transport.info();
        assert_eq!(info.kind, TransportKind::ChildProcess);
        assert_eq!(info.peer, format!("pid {pid}"));
        let exit = transport.exit();
        assert_eq!(exit.pid(), pid);
        assert!(exit.status().is_none(), "cat runs until stdin closes");

        let (mut rx, mut tx) = transport.split();
        let batch: Vec<Bytes> = (0..1000).map(frame).collect();
        // cat echoes while we write; read concurrently so neither pipe fills up.
        let writer = tokio::spawn(async move {
            tx.write_batch(&batch).await.expect("write");
            tx.write_batch(&[frame(1000)]).await.expect("write");
            tx.close().await.expect("close stdin");
            tx
        });
        for i in 0..=1000 {
            assert_eq!(next_message(&mut rx).await, frame(i));
        }
        assert!(
            rx.next_frame().await.is_none(),
            "cat exits on EOF, closing stdout"
        );
        let status = exit.wait().await.expect("exit status");
        assert!(status.success(), "{status}");
        let mut tx = writer.await.expect("writer task");
        assert!(matches!(
            tx.write_batch(&[frame(0)]).await,
            Err(TransportError::Closed)
        ));
        assert!(!process_exists(pid), "cat was reaped");
    })
    .await;
}

#[tokio::test]
async fn exit_status_is_reported_and_writing_to_an_exited_child_is_a_disconnect() {
    bounded(async {
        let transport =
            ChildProcessTransport::spawn(Command::new("sh").args(["-c", "exit 3"]), MAX)
                .expect("spawn sh");
        let (mut rx, mut tx) = transport.split();
        let exit = tx.exit();
        let status = exit.wait().await.expect("exit status");
        assert_eq!(status.code(), Some(3));
        assert_eq!(exit.status(), Some(status));
        assert_eq!(rx.exit().status(), Some(status));
        assert!(rx.next_frame().await.is_none(), "stdout closed");
        let err = tx
            .write_batch(&[frame(1)])
            .await
            .expect_err("nobody reads the pipe");
        assert!(err.is_disconnect(), "{err:?}");
        assert!(
            matches!(&err, TransportError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn child_lives_while_one_half_lives_and_dies_when_both_are_dropped() {
    bounded(async {
        let transport = ChildProcessTransport::spawn(Command::new("sleep").arg("60"), MAX)
            .expect("spawn sleep");
        let pid = transport.pid();
        let exit = transport.exit();
        let (rx, tx) = transport.split();

        drop(tx);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(exit.status().is_none(), "the reader half keeps the child");
        assert!(process_exists(pid));

        drop(rx);
        let status = exit.wait().await.expect("exit status");
        assert_eq!(status.signal(), Some(9), "killed: {status}");
        assert!(!process_exists(pid), "killed and reaped");
    })
    .await;
}

#[tokio::test]
async fn the_writer_half_alone_also_keeps_the_child() {
    bounded(async {
        let transport = ChildProcessTransport::spawn(Command::new("sleep").arg("60"), MAX)
            .expect("spawn sleep");
        let pid = transport.pid();
        let (rx, tx) = transport.split();
        drop(rx);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(tx.exit().status().is_none());
        assert!(process_exists(pid));
        let exit = tx.exit();
        drop(tx);
        assert_eq!(exit.wait().await.and_then(|s| s.signal()), Some(9));
        assert!(!process_exists(pid));
    })
    .await;
}

#[tokio::test]
async fn dropping_an_unsplit_transport_kills_the_child() {
    bounded(async {
        let transport = ChildProcessTransport::spawn(Command::new("sleep").arg("60"), MAX)
            .expect("spawn sleep");
        let pid = transport.pid();
        let exit = transport.exit();
        drop(transport);
        assert_eq!(exit.wait().await.and_then(|s| s.signal()), Some(9));
        assert!(!process_exists(pid));
    })
    .await;
}

#[tokio::test]
async fn oversized_line_from_the_child_then_the_next_frame() {
    bounded(async {
        let script = r#"printf '%5000s\n' x; echo '{"ok":1}'"#;
        let transport = ChildProcessTransport::spawn(Command::new("sh").args(["-c", script]), 1024)
            .expect("spawn sh");
        let (mut rx, _tx) = transport.split();
        match rx.next_frame().await {
            Some(Ok(Frame::Oversized { len })) => assert_eq!(len, 5000),
            other => panic!("expected Oversized, got {other:?}"),
        }
        assert_eq!(&next_message(&mut rx).await[..], br#"{"ok":1}"#);
        assert!(rx.next_frame().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn stderr_can_be_piped_apart_from_the_protocol() {
    bounded(async {
        let options = ChildOptions::new(MAX).stderr(StderrMode::Piped);
        let mut transport = ChildProcessTransport::spawn_with(
            Command::new("sh").args(["-c", "echo a-log-line >&2; exec cat"]),
            options,
        )
        .expect("spawn sh");
        let stderr = transport.take_stderr().expect("piped stderr");
        assert!(transport.take_stderr().is_none(), "taken once");
        let mut lines = BufReader::new(stderr).lines();
        assert_eq!(
            lines.next_line().await.expect("read stderr").as_deref(),
            Some("a-log-line")
        );
        let (mut rx, mut tx) = transport.split();
        tx.write_batch(&[frame(5)]).await.expect("write");
        assert_eq!(next_message(&mut rx).await, frame(5));
    })
    .await;
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    bounded(async {
        let mut command = Command::new("/nonexistent/erlmcp-no-such-server");
        command.arg("--stdio");
        let err = match ChildProcessTransport::spawn(&mut command, MAX) {
            Ok(_) => panic!("the program does not exist"),
            Err(err) => err,
        };
        match &err {
            TransportError::Spawn { command, source } => {
                assert_eq!(command, "/nonexistent/erlmcp-no-such-server --stdio");
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Spawn, got {other:?}"),
        }
        assert!(!err.is_disconnect());
    })
    .await;
}
