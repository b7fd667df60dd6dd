//! The load over one connection.
//!
//! Two scenarios, each on a fresh connection after the MCP handshake:
//!
//! - **Round trips** ([`Connection::round_trip`]): `tools/call echo` requests pipelined with a
//!   fixed window of requests in flight. A writer (the calling thread) sends whenever the
//!   window has room; a reader thread matches every response to its request by id, records
//!   the latency in an HDR histogram (µs) and frees the slot. A response whose id matches no
//!   request in flight, an error response, or a response without `result` ends the run
//!   with an error: the harness never counts what it cannot attribute.
//! - **One way** ([`Connection::one_way`]): `notifications/erlmcp/load` lines sent back to
//!   back, then one `ping`. The server answers requests in order of arrival on a connection
//!   (or at least cannot answer the ping before reading it, and reads in order), so the time
//!   until the ping's answer bounds the server's intake of every notification before it.
//!
//! Both stop at the first of a duration and a message cap, then wait (bounded) for the
//! answers still outstanding. The clock runs from the first request written to the last
//! answer read.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ChildStdin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use hdrhistogram::Histogram;
use parking_lot::{Condvar, Mutex};

use crate::wire::{
    INITIALIZE_ID, PaddedLines, initialize_request, initialized_notification, parse_u64,
    ping_request, scan_envelope, trim_line_end,
};

const READ_BUFFER: usize = 256 * 1024;
const WRITE_BUFFER: usize = 256 * 1024;

/// The write half of a connection: it can be closed so that the server sees end of input.
pub trait WriteHalf: Write + Send {
    /// Signals end of input to the server (closes the pipe, or shuts down the socket's
    /// sending side).
    fn close(self: Box<Self>) -> io::Result<()>;
}

impl WriteHalf for ChildStdin {
    fn close(self: Box<Self>) -> io::Result<()> {
        drop(self);
        Ok(())
    }
}

impl WriteHalf for TcpStream {
    fn close(self: Box<Self>) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// How much load, for how long.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Bytes per request line (newline excluded).
    pub payload: usize,
    /// Stop sending after this long.
    pub duration: Duration,
    /// Stop sending after this many messages, even before `duration`.
    pub max_messages: u64,
    /// After sending stops, how long to wait for outstanding answers before failing.
    pub drain_timeout: Duration,
}

/// What one scenario measured.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Round trips answered, or notifications sent before the closing ping was answered.
    pub messages: u64,
    /// From the first message written to the last answer read.
    pub elapsed: Duration,
    /// Round-trip latency in µs (round trips only).
    pub latency: Option<Histogram<u64>>,
}

/// One connection to a server, before the handshake.
pub struct Connection {
    reader: BufReader<Box<dyn Read + Send>>,
    writer: BufWriter<Box<dyn WriteHalf>>,
}

impl Connection {
    /// Wraps a server's output (`reader`) and input (`writer`).
    pub fn new(reader: impl Read + Send + 'static, writer: impl WriteHalf + 'static) -> Self {
        let reader: Box<dyn Read + Send> = Box::new(reader);
        let writer: Box<dyn WriteHalf> = Box::new(writer);
        Connection {
            reader: BufReader::with_capacity(READ_BUFFER, reader),
            writer: BufWriter::with_capacity(WRITE_BUFFER, writer),
        }
    }

    /// `initialize` (id 0), its answer, then `notifications/initialized`. Server
    /// notifications before the answer are skipped; an error answer fails.
    pub fn handshake(&mut self) -> anyhow::Result<()> {
        self.writer.write_all(&initialize_request(INITIALIZE_ID))?;
        self.writer.flush()?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                bail!("the server closed the connection before answering initialize");
            }
            let body = trim_line_end(&line);
            if body.is_empty() {
                continue;
            }
            let env = scan_envelope(body)
                .ok_or_else(|| anyhow!("unreadable line during initialize: {}", snippet(body)))?;
            let Some(id) = env.id else { continue };
            if parse_u64(id) != Some(INITIALIZE_ID) {
                bail!("answer to initialize has the wrong id: {}", snippet(body));
            }
            if env.has_error || !env.has_result {
                bail!("initialize failed: {}", snippet(body));
            }
            break;
        }
        self.writer.write_all(&initialized_notification())?;
        self.writer.flush()?;
        Ok(())
    }

    /// Pipelined `tools/call echo` round trips with `in_flight` requests outstanding.
    /// With `verify_echo`, the first answer's text must equal the request's (erlmcp's
    /// `echo` tool); the ceiling peer's padding is not an echo, so it is not checked there.
    pub fn round_trip(
        self,
        config: &LoadConfig,
        in_flight: usize,
        verify_echo: bool,
    ) -> anyhow::Result<Measurement> {
        if in_flight == 0 {
            bail!("in-flight window must be at least 1");
        }
        let Connection { reader, mut writer } = self;
        let lines = PaddedLines::new(config.payload);
        let shared = Arc::new(Shared::new(in_flight));
        let reader_shared = Arc::clone(&shared);
        let expected_text = verify_echo.then(|| lines.clone());
        std::thread::Builder::new()
            .name("load-reader".into())
            .spawn(move || {
                let result = read_round_trips(reader, &reader_shared, expected_text);
                let mut st = reader_shared.state.lock();
                st.reader_done = true;
                if let Err(e) = result {
                    st.failure.get_or_insert(e);
                }
                drop(st);
                reader_shared.cond.notify_all();
            })
            .context("spawn reader thread")?;

        let start = Instant::now();
        let deadline = start + config.duration;
        let mut next_id: u64 = 1;
        let mut sent: u64 = 0;
        let mut batch = Vec::with_capacity(in_flight.min(256) * (config.payload + 32));
        loop {
            let n = {
                let mut st = shared.state.lock();
                loop {
                    if let Some(e) = st.failure.take() {
                        return Err(e);
                    }
                    if st.reader_done {
                        bail!("the server closed the connection mid-run");
                    }
                    if st.in_flight.len() < in_flight || Instant::now() >= deadline {
                        break;
                    }
                    shared.cond.wait_for(&mut st, Duration::from_millis(50));
                }
                let now = Instant::now();
                if now >= deadline || sent >= config.max_messages {
                    break;
                }
                let free = (in_flight - st.in_flight.len()) as u64;
                let n = free.min(config.max_messages - sent);
                for id in next_id..next_id + n {
                    st.in_flight.insert(id, now);
                }
                n
            };
            batch.clear();
            for id in next_id..next_id + n {
                lines.echo_call(id, &mut batch);
            }
            writer.write_all(&batch).context("write requests")?;
            writer.flush().context("write requests")?;
            next_id += n;
            sent += n;
        }

        let drain_deadline = Instant::now() + config.drain_timeout;
        let mut st = shared.state.lock();
        while !st.in_flight.is_empty() && st.failure.is_none() && !st.reader_done {
            if shared.cond.wait_until(&mut st, drain_deadline).timed_out() {
                bail!(
                    "{} of {sent} requests unanswered {:?} after sending stopped",
                    st.in_flight.len(),
                    config.drain_timeout
                );
            }
        }
        if let Some(e) = st.failure.take() {
            return Err(e);
        }
        if !st.in_flight.is_empty() {
            bail!(
                "the server closed the connection with {} requests unanswered",
                st.in_flight.len()
            );
        }
        let measurement = Measurement {
            messages: st.answered,
            elapsed: st.last_answer.map_or(Duration::ZERO, |t| t - start),
            latency: Some(st.histogram.clone()),
        };
        st.closing = true;
        drop(st);
        close(writer);
        Ok(measurement)
    }

    /// Notifications back to back, then one `ping`; measures until the ping's answer.
    pub fn one_way(self, config: &LoadConfig) -> anyhow::Result<Measurement> {
        const PING_ID: u64 = 1;
        let Connection { reader, mut writer } = self;
        let lines = PaddedLines::new(config.payload);
        let shared = Arc::new(Shared::new(1));
        let reader_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("load-reader".into())
            .spawn(move || {
                let result = read_ping_answer(reader, &reader_shared, PING_ID);
                let mut st = reader_shared.state.lock();
                st.reader_done = true;
                if let Err(e) = result {
                    st.failure.get_or_insert(e);
                }
                drop(st);
                reader_shared.cond.notify_all();
            })
            .context("spawn reader thread")?;

        let mut note = Vec::with_capacity(config.payload + 1);
        lines.load_notification(&mut note);
        let start = Instant::now();
        let deadline = start + config.duration;
        let mut sent: u64 = 0;
        while sent < config.max_messages {
            if sent.is_multiple_of(64) {
                if Instant::now() >= deadline {
                    break;
                }
                let st = shared.state.lock();
                if st.failure.is_some() || st.reader_done {
                    break;
                }
            }
            writer.write_all(&note).context("write notifications")?;
            sent += 1;
        }
        shared
            .state
            .lock()
            .in_flight
            .insert(PING_ID, Instant::now());
        writer.write_all(&ping_request(PING_ID))?;
        writer.flush().context("write ping")?;

        let drain_deadline = Instant::now() + config.drain_timeout;
        let mut st = shared.state.lock();
        while st.answered == 0 && st.failure.is_none() && !st.reader_done {
            if shared.cond.wait_until(&mut st, drain_deadline).timed_out() {
                bail!(
                    "ping unanswered {:?} after {sent} notifications",
                    config.drain_timeout
                );
            }
        }
        if let Some(e) = st.failure.take() {
            return Err(e);
        }
        let Some(answered_at) = st.last_answer else {
            bail!("the server closed the connection before answering the ping");
        };
        st.closing = true;
        drop(st);
        close(writer);
        Ok(Measurement {
            messages: sent,
            elapsed: answered_at - start,
            latency: None,
        })
    }
}

/// Flushes and closes the write half; errors no longer matter (the figures are taken).
fn close(writer: BufWriter<Box<dyn WriteHalf>>) {
    if let Ok(inner) = writer.into_inner() {
        let _ = inner.close();
    }
}

/// State shared by the writer and the reader thread.
struct Shared {
    state: Mutex<State>,
    cond: Condvar,
}

struct State {
    /// Requests written and not yet answered, with when they were written.
    in_flight: HashMap<u64, Instant>,
    answered: u64,
    last_answer: Option<Instant>,
    histogram: Histogram<u64>,
    failure: Option<anyhow::Error>,
    /// The reader thread has stopped (end of input or error).
    reader_done: bool,
    /// The writer has its figures and is closing; end of input is expected now.
    closing: bool,
}

impl Shared {
    fn new(in_flight: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                in_flight: HashMap::with_capacity(in_flight * 2),
                answered: 0,
                last_answer: None,
                // 1 µs .. 1 hour at 3 significant digits; larger values saturate.
                histogram: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                    .expect("1 µs .. 1 h at 3 significant digits is a valid histogram"),
                failure: None,
                reader_done: false,
                closing: false,
            }),
            cond: Condvar::new(),
        }
    }
}

fn read_round_trips(
    reader: BufReader<Box<dyn Read + Send>>,
    shared: &Shared,
    mut verify: Option<PaddedLines>,
) -> anyhow::Result<()> {
    read_lines(reader, shared, |body, id, now| {
        let mut st = shared.state.lock();
        let Some(sent_at) = st.in_flight.remove(&id) else {
            bail!(
                "response id {id} matches no request in flight: {}",
                snippet(body)
            );
        };
        if let Some(lines) = verify.take() {
            check_echo(body, lines.echo_text_len(id))?;
        }
        let micros = u64::try_from(now.duration_since(sent_at).as_micros()).unwrap_or(u64::MAX);
        st.histogram.saturating_record(micros.max(1));
        st.answered += 1;
        st.last_answer = Some(now);
        drop(st);
        shared.cond.notify_all();
        Ok(())
    })
}

fn read_ping_answer(
    reader: BufReader<Box<dyn Read + Send>>,
    shared: &Shared,
    ping_id: u64,
) -> anyhow::Result<()> {
    read_lines(reader, shared, |body, id, now| {
        let mut st = shared.state.lock();
        if id != ping_id || st.in_flight.remove(&id).is_none() {
            bail!(
                "response id {id} matches no request in flight: {}",
                snippet(body)
            );
        }
        st.answered += 1;
        st.last_answer = Some(now);
        drop(st);
        shared.cond.notify_all();
        Ok(())
    })
}

/// Reads answers until end of input, calling `on_answer(line, id, arrival)` for each
/// successful response. Server notifications (no id) are skipped; error responses,
/// responses without `result`, and non-numeric ids fail.
fn read_lines(
    mut reader: BufReader<Box<dyn Read + Send>>,
    shared: &Shared,
    mut on_answer: impl FnMut(&[u8], u64, Instant) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut line = Vec::with_capacity(64 * 1024);
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line);
        let now = Instant::now();
        match read {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(_) if shared.state.lock().closing => return Ok(()),
            Err(e) => return Err(e).context("read responses"),
        }
        let body = trim_line_end(&line);
        if body.is_empty() {
            continue;
        }
        let env = scan_envelope(body)
            .ok_or_else(|| anyhow!("unreadable line from the server: {}", snippet(body)))?;
        let Some(raw_id) = env.id else {
            continue; // a server notification
        };
        let id = parse_u64(raw_id).ok_or_else(|| {
            anyhow!(
                "response id {} matches no request in flight: {}",
                String::from_utf8_lossy(raw_id),
                snippet(body)
            )
        })?;
        if env.has_error {
            bail!("request {id} failed: {}", snippet(body));
        }
        if !env.has_result {
            bail!("answer to request {id} has no result: {}", snippet(body));
        }
        on_answer(body, id, now)?;
    }
}

/// Checks that a `tools/call echo` result holds `len` `x` characters as its text.
fn check_echo(body: &[u8], len: usize) -> anyhow::Result<()> {
    let value: serde_json::Value =
        serde_json::from_slice(body).context("echo answer is not JSON")?;
    let text = value["result"]["content"][0]["text"]
        .as_str()
        .ok_or_else(|| anyhow!("echo answer has no text content: {}", snippet(body)))?;
    if text.len() != len || text.bytes().any(|b| b != b'x') {
        bail!(
            "echo answer's text differs from the request's ({} bytes, expected {len})",
            text.len()
        );
    }
    Ok(())
}

/// The first 200 bytes of a line, for error messages.
fn snippet(body: &[u8]) -> String {
    let cut = body.len().min(200);
    let mut s = String::from_utf8_lossy(&body[..cut]).into_owned();
    if body.len() > cut {
        s.push('…');
    }
    s
}
