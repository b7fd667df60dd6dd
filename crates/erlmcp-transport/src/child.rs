//! The child-process transport: a client runs an MCP server as a child process and talks
//! to it over the child's stdin (requests out) and stdout (responses in).
//!
//! The child's stderr is inherited by default, so the server's logs land on the client's
//! stderr; [`StderrMode`] can discard it or pipe it to the caller instead.
//!
//! ## Lifetime
//! The reader and writer halves each hold a share of the child. While either lives the
//! child runs; when both are dropped (or the transport is dropped unsplit) the child is
//! killed and reaped by a small watcher task, so no zombie is left behind. The watcher
//! also publishes the exit status, which [`ChildExit`] reads without keeping the child
//! alive.
//!
//! ```text
//!   running ──── child exits by itself ───────────────────▶ exited (status published)
//!      │
//!      └─ last half dropped ─▶ SIGKILL sent ─▶ reaped ────▶ exited (status published)
//! ```
//!
//! A graceful shutdown is: [`close`](crate::FrameWriter::close) the writer (the child's
//! stdin reaches EOF and a well-behaved server exits), wait on [`ChildExit::wait`] with a
//! timeout, then drop both halves — which kills the child if it is still running.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;

use erlmcp_codec::Frame;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::{oneshot, watch};

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo, TransportKind};
use crate::error::TransportError;
use crate::stream::{StreamReader, StreamTransport, StreamWriter};

/// What happens to the child's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StderrMode {
    /// The child writes to this process's stderr (the default).
    #[default]
    Inherit,
    /// The child's stderr is discarded.
    Null,
    /// The child's stderr is a pipe; take it with
    /// [`ChildProcessTransport::take_stderr`]. Read it continuously: a child whose stderr
    /// pipe is full blocks on its next log line.
    Piped,
}

impl StderrMode {
    fn stdio(self) -> Stdio {
        match self {
            StderrMode::Inherit => Stdio::inherit(),
            StderrMode::Null => Stdio::null(),
            StderrMode::Piped => Stdio::piped(),
        }
    }
}

/// How to run a child-process transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChildOptions {
    /// The maximum size of a frame read from (or written to) the child.
    pub max_frame_bytes: usize,
    /// What happens to the child's stderr.
    pub stderr: StderrMode,
    /// The initial read-buffer capacity; `None` for the default.
    pub read_capacity: Option<usize>,
}

impl ChildOptions {
    /// Options with the given frame limit, stderr inherited and the default read capacity.
    pub fn new(max_frame_bytes: usize) -> Self {
        ChildOptions {
            max_frame_bytes,
            stderr: StderrMode::Inherit,
            read_capacity: None,
        }
    }

    /// Sets what happens to the child's stderr.
    pub fn stderr(mut self, mode: StderrMode) -> Self {
        self.stderr = mode;
        self
    }

    /// Sets the initial read-buffer capacity (see
    /// [`StreamTransport::with_read_capacity`]).
    pub fn read_capacity(mut self, bytes: usize) -> Self {
        self.read_capacity = Some(bytes);
        self
    }
}

/// Held (through an `Arc`) by the transport and both halves. Dropping the last one drops
/// the sender, which tells the watcher task to kill the child.
#[derive(Debug)]
struct KillOnDrop {
    _kill: oneshot::Sender<()>,
}

/// Observes a child's exit without keeping it alive. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChildExit {
    pid: u32,
    status: watch::Receiver<Option<ExitStatus>>,
}

impl ChildExit {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status, if the child has exited and been reaped.
    pub fn status(&self) -> Option<ExitStatus> {
        *self.status.borrow()
    }

    /// Waits until the child has exited and been reaped, and returns its status. `None`
    /// only if the status could not be collected (waiting on the child failed, or the
    /// runtime shut down first).
    pub async fn wait(&self) -> Option<ExitStatus> {
        let mut status = self.status.clone();
        let seen = status
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|seen| *seen);
        seen.or_else(|| *self.status.borrow())
    }
}

/// A transport over a child process's stdin and stdout.
pub struct ChildProcessTransport {
    inner: StreamTransport<ChildStdout, ChildStdin>,
    exit: ChildExit,
    stderr: Option<ChildStderr>,
    guard: Arc<KillOnDrop>,
}

impl ChildProcessTransport {
    /// Spawns `command` with piped stdin/stdout and inherited stderr; frames longer than
    /// `max_frame_bytes` are refused in both directions.
    ///
    /// `command` is changed: its stdin, stdout and stderr are set, and `kill_on_drop(true)`.
    ///
    /// # Panics
    /// Outside a Tokio runtime (the child's watcher is a task).
    pub fn spawn(command: &mut Command, max_frame_bytes: usize) -> Result<Self, TransportError> {
        ChildProcessTransport::spawn_with(command, ChildOptions::new(max_frame_bytes))
    }

    /// Spawns `command` as [`spawn`](Self::spawn) does, with the given options.
    ///
    /// # Panics
    /// Outside a Tokio runtime (the child's watcher is a task).
    pub fn spawn_with(
        command: &mut Command,
        options: ChildOptions,
    ) -> Result<Self, TransportError> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(options.stderr.stdio())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| TransportError::Spawn {
            command: describe(command),
            source,
        })?;
        // `id()` is `None` only after the child was waited for, which cannot have happened.
        let pid = child.id().unwrap_or_default();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            // Unreachable with piped stdio; `child` is killed on drop.
            return Err(TransportError::Closed);
        };
        let stderr = child.stderr.take();

        let (kill_tx, kill_rx) = oneshot::channel();
        let (status_tx, status_rx) = watch::channel(None);
        tokio::spawn(watch_child(child, pid, kill_rx, status_tx));
        tracing::debug!(pid, command = %describe(command), "spawned child process");

        let info = TransportInfo::new(
            TransportKind::ChildProcess,
            format!("pid {pid}"),
            options.max_frame_bytes,
        );
        let mut inner = StreamTransport::new(stdout, stdin, info);
        if let Some(bytes) = options.read_capacity {
            inner = inner.with_read_capacity(bytes);
        }
        Ok(ChildProcessTransport {
            inner,
            exit: ChildExit {
                pid,
                status: status_rx,
            },
            stderr,
            guard: Arc::new(KillOnDrop { _kill: kill_tx }),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.exit.pid
    }

    /// A handle to wait for the child's exit or read its status.
    pub fn exit(&self) -> ChildExit {
        self.exit.clone()
    }

    /// The child's stderr pipe, once, when spawned with [`StderrMode::Piped`].
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.stderr.take()
    }
}

impl Transport for ChildProcessTransport {
    type Reader = ChildReader;
    type Writer = ChildWriter;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (ChildReader, ChildWriter) {
        let (reader, writer) = self.inner.split();
        (
            ChildReader {
                inner: reader,
                exit: self.exit.clone(),
                _guard: Arc::clone(&self.guard),
            },
            ChildWriter {
                inner: writer,
                exit: self.exit,
                _guard: self.guard,
            },
        )
    }
}

/// The reading half of a [`ChildProcessTransport`]: frames from the child's stdout.
/// `None` once the child closed its stdout (usually: it exited).
pub struct ChildReader {
    inner: StreamReader<ChildStdout>,
    exit: ChildExit,
    _guard: Arc<KillOnDrop>,
}

impl ChildReader {
    /// A handle to wait for the child's exit or read its status.
    pub fn exit(&self) -> ChildExit {
        self.exit.clone()
    }
}

impl FrameReader for ChildReader {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        self.inner.next_frame().await
    }
}

/// The writing half of a [`ChildProcessTransport`]: frames to the child's stdin.
/// [`close`](FrameWriter::close) closes the child's stdin.
pub struct ChildWriter {
    inner: StreamWriter<ChildStdin>,
    exit: ChildExit,
    _guard: Arc<KillOnDrop>,
}

impl ChildWriter {
    /// A handle to wait for the child's exit or read its status.
    pub fn exit(&self) -> ChildExit {
        self.exit.clone()
    }
}

impl FrameWriter for ChildWriter {
    async fn write_batch(&mut self, batch: &[bytes::Bytes]) -> Result<(), TransportError> {
        self.inner.write_batch(batch).await
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.inner.close().await
    }
}

/// Waits for the child to exit, or kills it when the last half is dropped; either way it
/// is reaped and its status published.
async fn watch_child(
    mut child: Child,
    pid: u32,
    kill: oneshot::Receiver<()>,
    status: watch::Sender<Option<ExitStatus>>,
) {
    let exited = tokio::select! {
        result = child.wait() => Some(result),
        // Sent never; the sender's drop (last half gone) completes this.
        _ = kill => None,
    };
    let result = match exited {
        Some(result) => result,
        None => {
            if let Err(err) = child.start_kill() {
                tracing::debug!(pid, error = %err, "could not kill child process");
            }
            child.wait().await
        }
    };
    match result {
        Ok(exit) => {
            tracing::debug!(pid, status = %exit, "child process exited");
            status.send_replace(Some(exit));
        }
        Err(err) => tracing::warn!(pid, error = %err, "could not wait for child process"),
    }
}

fn describe(command: &Command) -> String {
    let std = command.as_std();
    let mut text = std.get_program().to_string_lossy().into_owned();
    for arg in std.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
