//! Starting a server as a child process and connecting to it; stopping it afterwards.
//!
//! Over stdio the child's stdin and stdout are the connection. Over TCP the harness picks
//! a free loopback port (bind `127.0.0.1:0`, read the port, close), passes it to the child
//! and retries connecting until it succeeds or a bound passes. Every child gets a watchdog
//! that kills it if its scenario overruns, so a stuck server cannot hang the harness; the
//! last lines of its stderr are kept for error messages.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use parking_lot::Mutex;

use crate::driver::Connection;

/// How the harness talks to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The child's stdin and stdout.
    Stdio,
    /// One loopback TCP connection.
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Stdio => "stdio",
            Transport::Tcp => "tcp",
        })
    }
}

impl FromStr for Transport {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "stdio" => Ok(Transport::Stdio),
            "tcp" => Ok(Transport::Tcp),
            other => bail!("unknown transport {other:?} (expected stdio or tcp)"),
        }
    }
}

/// A server program and how to start it on each transport.
#[derive(Debug, Clone)]
pub struct Target {
    /// `erlmcp` or `ceiling`; becomes [`erlmcp_evidence::ThroughputRecord::server`].
    pub label: String,
    /// The executable.
    pub program: PathBuf,
    /// Arguments for stdio mode.
    pub stdio_args: Vec<String>,
    /// Arguments for TCP mode; the listen address (`127.0.0.1:PORT`) is appended.
    pub tcp_args: Vec<String>,
    /// Whether `tools/call echo` returns the request's text (checked on the first answer).
    pub echoes: bool,
}

impl Target {
    /// The erlmcp binary: `serve --stdio` / `serve --tcp ADDR`.
    pub fn erlmcp(program: impl Into<PathBuf>) -> Self {
        Target {
            label: "erlmcp".into(),
            program: program.into(),
            stdio_args: vec!["serve".into(), "--stdio".into()],
            tcp_args: vec!["serve".into(), "--tcp".into()],
            echoes: true,
        }
    }

    /// The ceiling peer of a `load` binary: `ceiling-peer --stdio` / `ceiling-peer --tcp ADDR`.
    pub fn ceiling(load_program: impl Into<PathBuf>) -> Self {
        Target {
            label: "ceiling".into(),
            program: load_program.into(),
            stdio_args: vec!["ceiling-peer".into(), "--stdio".into()],
            tcp_args: vec!["ceiling-peer".into(), "--tcp".into()],
            echoes: false,
        }
    }
}

/// A running server child. Dropping it kills the child.
pub struct Session {
    child: Arc<Mutex<Child>>,
    transport: Transport,
    /// Kept open in TCP mode so a server that watches stdin does not see end of input.
    _stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    watchdog: Option<mpsc::Sender<()>>,
}

const STDERR_LINES: usize = 40;

impl Session {
    /// Starts `target` on `transport` and connects to it (TCP: retrying for up to
    /// `connect_timeout`). The watchdog kills the child after `limit` unless the
    /// session is finished first.
    pub fn start(
        target: &Target,
        transport: Transport,
        connect_timeout: Duration,
        limit: Duration,
    ) -> anyhow::Result<(Session, Connection)> {
        let mut command = Command::new(&target.program);
        command.stdin(Stdio::piped()).stderr(Stdio::piped());
        let addr = match transport {
            Transport::Stdio => {
                command.args(&target.stdio_args).stdout(Stdio::piped());
                None
            }
            Transport::Tcp => {
                let addr = free_loopback_port()?;
                command
                    .args(&target.tcp_args)
                    .arg(addr.to_string())
                    .stdout(Stdio::null());
                Some(addr)
            }
        };
        let mut child = command
            .spawn()
            .with_context(|| format!("start {}", target.program.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut tail = tail.lock();
                    if tail.len() == STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }
        let mut session = Session {
            child: Arc::new(Mutex::new(child)),
            transport,
            _stdin: None,
            stderr,
            watchdog: None,
        };
        session.arm_watchdog(limit);

        let connection = match (transport, addr) {
            (Transport::Stdio, _) => {
                let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
                    bail!("child has no stdio pipes");
                };
                Connection::new(stdout, stdin)
            }
            (Transport::Tcp, Some(addr)) => {
                session._stdin = stdin;
                let stream = session
                    .connect(addr, connect_timeout)
                    .map_err(|e| session.with_stderr(e))?;
                let read_half = stream.try_clone()?;
                Connection::new(read_half, stream)
            }
            (Transport::Tcp, None) => bail!("no address for a TCP server"),
        };
        Ok((session, connection))
    }

    fn arm_watchdog(&mut self, limit: Duration) {
        let (tx, rx) = mpsc::channel::<()>();
        let child = Arc::clone(&self.child);
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                eprintln!("watchdog: server overran its {limit:?} budget; killing it");
                let _ = child.lock().kill();
            }
        });
        self.watchdog = Some(tx);
    }

    fn connect(&self, addr: SocketAddr, timeout: Duration) -> anyhow::Result<TcpStream> {
        let deadline = Instant::now() + timeout;
        loop {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(250)) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(e) => {
                    if let Some(status) = self.child.lock().try_wait()? {
                        bail!("server exited ({status}) before accepting on {addr}");
                    }
                    if Instant::now() >= deadline {
                        return Err(e).context(format!("connect to {addr} within {timeout:?}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    /// Adds the child's last stderr lines to an error.
    pub fn with_stderr(&self, error: anyhow::Error) -> anyhow::Error {
        // Give the stderr thread a moment to collect a dying child's last words.
        std::thread::sleep(Duration::from_millis(50));
        let tail = self.stderr.lock();
        if tail.is_empty() {
            error
        } else {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            error.context(format!(
                "server stderr (last lines):\n  {}",
                lines.join("\n  ")
            ))
        }
    }

    /// Stops the server: over stdio it gets up to 2 s to exit after end of input (which
    /// the driver has sent); a TCP server is killed at once. Returns an error only if the
    /// child cannot be reaped.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.watchdog.take();
        self._stdin.take();
        let grace = match self.transport {
            Transport::Stdio => Duration::from_secs(2),
            Transport::Tcp => Duration::ZERO,
        };
        let deadline = Instant::now() + grace;
        let mut child = self.child.lock();
        loop {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                child.wait().map_err(|e| anyhow!("reap server: {e}"))?;
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut child = self.child.lock();
        if let Ok(None) = child.try_wait() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback address with a port that was free a moment ago.
pub fn free_loopback_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("find a free port")?;
    Ok(listener.local_addr()?)
}
