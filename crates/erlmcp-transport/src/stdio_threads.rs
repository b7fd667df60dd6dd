//! stdin and stdout served by one dedicated thread each, for the stdio transport.
//!
//! Tokio's `Stdin`/`Stdout` hand every read, write and flush to its blocking pool: a task
//! hand-off and a wake-up per operation, and a write plus a separate flush per batch. Here
//! a reader thread reads stdin into large buffers and passes each filled buffer over a
//! channel; a writer thread takes whole batches of bytes and writes each with one
//! `write_all`. Buffers travel back to the thread that fills them, so steady traffic
//! allocates nothing.
//!
//! Both threads are started on first use (a transport that is never read from does not
//! steal stdin's bytes). The reader thread blocks in `read` and cannot be cancelled: it
//! ends at EOF, on a read error, or at the first read after its [`StdinPipe`] was dropped.
//! The writer thread ends when its [`StdoutPipe`] is dropped or a write fails.

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::mpsc::{Receiver as StdReceiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::PollSender;

/// Size of one read from stdin: many frames per system call under load.
const READ_CHUNK: usize = 64 * 1024;

/// Filled buffers waiting for the async side; bounds what is read ahead of the consumer.
const READ_AHEAD: usize = 4;

/// Batches handed to the writer thread and not yet written; bounds memory under a slow
/// client and is the writer's backpressure.
const WRITES_IN_FLIGHT: usize = 2;

/// Buffers kept for reuse on each side.
const RECYCLED: usize = 4;

/// A buffer larger than this is not kept for reuse after a large burst.
const RETAIN_LIMIT: usize = 256 * 1024;

/// stdin as an [`AsyncRead`], read by a dedicated thread.
pub struct StdinPipe {
    /// `None` until the first read starts the thread.
    chunks: Option<mpsc::Receiver<io::Result<Vec<u8>>>>,
    /// Empty buffers going back to the reader thread.
    recycle: Option<SyncSender<Vec<u8>>>,
    /// The chunk being consumed and how much of it is consumed.
    current: Vec<u8>,
    pos: usize,
    /// EOF or an error was seen; every later read returns EOF.
    done: bool,
}

impl StdinPipe {
    pub(crate) fn new() -> Self {
        StdinPipe {
            chunks: None,
            recycle: None,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }

    fn start(&mut self) -> &mut mpsc::Receiver<io::Result<Vec<u8>>> {
        self.chunks.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel(READ_AHEAD);
            let (recycle_tx, recycle_rx) = sync_channel(RECYCLED);
            self.recycle = Some(recycle_tx);
            std::thread::Builder::new()
                .name("erlmcp-stdin".into())
                .spawn(move || read_stdin(tx, recycle_rx))
                .map(drop)
                .unwrap_or_else(|err| {
                    // No thread: the receiver sees a closed channel; report why once.
                    tracing::error!("cannot start the stdin reader thread: {err}");
                });
            rx
        })
    }
}

/// The reader thread: fills buffers from stdin until EOF, an error, or the consumer is gone.
fn read_stdin(tx: mpsc::Sender<io::Result<Vec<u8>>>, recycled: StdReceiver<Vec<u8>>) {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    loop {
        let mut buf = recycled.try_recv().unwrap_or_default();
        buf.resize(READ_CHUNK, 0);
        // A buffer at least as large as StdinLock's own makes it read straight into ours.
        let read = loop {
            match stdin.read(&mut buf) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match read {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(buf)).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = tx.blocking_send(Err(err));
                return;
            }
        }
    }
}

impl AsyncRead for StdinPipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pos == this.current.len() {
            if this.done {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.start().poll_recv(cx)) {
                Some(Ok(chunk)) => {
                    let used = std::mem::replace(&mut this.current, chunk);
                    this.pos = 0;
                    if used.capacity() > 0
                        && used.capacity() <= RETAIN_LIMIT
                        && let Some(recycle) = &this.recycle
                    {
                        let _ = recycle.try_send(used);
                    }
                }
                Some(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Err(err));
                }
                None => {
                    // EOF: the thread ended and dropped its sender.
                    this.done = true;
                    this.current = Vec::new();
                    this.pos = 0;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let n = out.remaining().min(this.current.len() - this.pos);
        out.put_slice(&this.current[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// What the writer thread is asked to do.
enum WriteJob {
    /// Write these bytes.
    Bytes(Vec<u8>),
    /// Flush stdout, then answer: everything sent before has reached the pipe.
    Sync(oneshot::Sender<()>),
}

/// The writer thread's first error, kept for the async side.
type SharedError = Arc<Mutex<Option<io::Error>>>;

/// stdout as an [`AsyncWrite`], written by a dedicated thread.
///
/// `poll_write` gathers bytes; `poll_flush` hands them to the thread as one batch and
/// returns once the thread has room for it (at most [`WRITES_IN_FLIGHT`] batches wait),
/// so the next batch is gathered while this one is written. `poll_shutdown` waits until
/// everything handed over is written. A write error is reported by the next call.
pub struct StdoutPipe {
    /// `None` until the first write starts the thread.
    jobs: Option<PollSender<WriteJob>>,
    recycled: Option<StdReceiver<Vec<u8>>>,
    error: SharedError,
    /// Bytes gathered since the last flush.
    pending: Vec<u8>,
    /// Waiting for the thread to confirm a shutdown's flush.
    synced: Option<oneshot::Receiver<()>>,
}

impl StdoutPipe {
    pub(crate) fn new() -> Self {
        StdoutPipe {
            jobs: None,
            recycled: None,
            error: Arc::new(Mutex::new(None)),
            pending: Vec::new(),
            synced: None,
        }
    }

    fn start(&mut self) -> &mut PollSender<WriteJob> {
        self.jobs.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel(WRITES_IN_FLIGHT);
            let (recycle_tx, recycle_rx) = sync_channel(RECYCLED);
            self.recycled = Some(recycle_rx);
            let error = Arc::clone(&self.error);
            std::thread::Builder::new()
                .name("erlmcp-stdout".into())
                .spawn(move || write_stdout(rx, recycle_tx, error))
                .map(drop)
                .unwrap_or_else(|err| {
                    tracing::error!("cannot start the stdout writer thread: {err}");
                });
            PollSender::new(tx)
        })
    }

    /// The thread's error, or `BrokenPipe` if it is gone without one.
    fn thread_error(&self) -> io::Error {
        let stored = self.error.lock().map(|mut e| e.take()).unwrap_or(None);
        stored.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::BrokenPipe, "stdout writer thread ended")
        })
    }

    /// Hands `job` to the thread once it has room.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        job: impl FnOnce(&mut Self) -> WriteJob,
    ) -> Poll<io::Result<()>> {
        let sender = self.start();
        if ready!(sender.poll_reserve(cx)).is_err() {
            return Poll::Ready(Err(self.thread_error()));
        }
        let job = job(self);
        let sent = self.jobs.as_mut().map(|s| s.send_item(job));
        match sent {
            Some(Ok(())) => Poll::Ready(Ok(())),
            _ => Poll::Ready(Err(self.thread_error())),
        }
    }

    /// Hands the gathered bytes to the thread, if any.
    fn poll_hand_over(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending.is_empty() {
            return Poll::Ready(Ok(()));
        }
        self.poll_send(cx, |this| {
            let next = this
                .recycled
                .as_ref()
                .and_then(|r| r.try_recv().ok())
                .unwrap_or_default();
            WriteJob::Bytes(std::mem::replace(&mut this.pending, next))
        })
    }
}

/// The writer thread: writes each batch whole until the pipe is dropped or a write fails.
fn write_stdout(
    mut jobs: mpsc::Receiver<WriteJob>,
    recycle: SyncSender<Vec<u8>>,
    error: SharedError,
) {
    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    while let Some(job) = jobs.blocking_recv() {
        let result = match job {
            // Batches end with a newline, so stdout's line buffer passes them straight on.
            WriteJob::Bytes(mut bytes) => {
                let written = stdout.write_all(&bytes);
                if bytes.capacity() <= RETAIN_LIMIT {
                    bytes.clear();
                    let _ = recycle.try_send(bytes);
                }
                written
            }
            WriteJob::Sync(done) => {
                let flushed = stdout.flush();
                if flushed.is_ok() {
                    let _ = done.send(());
                }
                flushed
            }
        };
        if let Err(err) = result {
            if let Ok(mut slot) = error.lock() {
                *slot = Some(err);
            }
            return;
        }
    }
    let _ = stdout.flush();
}

impl AsyncWrite for StdoutPipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Gathered until the next flush; the stream writer flushes after every batch.
        self.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_hand_over(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.synced.is_none() {
            ready!(this.poll_hand_over(cx))?;
            if this.jobs.is_none() {
                // Nothing was ever written: nothing to wait for.
                return Poll::Ready(Ok(()));
            }
            let (done, synced) = oneshot::channel();
            ready!(this.poll_send(cx, |_| WriteJob::Sync(done)))?;
            this.synced = Some(synced);
        }
        let Some(synced) = this.synced.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let outcome = ready!(Pin::new(synced).poll(cx));
        this.synced = None;
        match outcome {
            Ok(()) => Poll::Ready(Ok(())),
            Err(_) => Poll::Ready(Err(this.thread_error())),
        }
    }
}
