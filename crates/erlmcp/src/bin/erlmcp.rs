//! The `erlmcp` command: run the demo server, or send one request to a server.
//!
//! ```text
//! erlmcp serve --stdio
//! erlmcp serve --tcp 127.0.0.1:7400
//! erlmcp serve --http 127.0.0.1:7401     # Streamable HTTP at http://127.0.0.1:7401/mcp
//! erlmcp call tools/list --tcp 127.0.0.1:7400
//! erlmcp call tools/call '{"name":"echo","arguments":{"text":"hi"}}' -- erlmcp serve --stdio
//! ```
//! Logs go to stderr (filter with `ERLMCP_LOG`, default `warn`); with `--stdio`, stdout
//! carries nothing but protocol.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use erlmcp::{ClientBuilder, RequestOptions, SessionConfig};
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "erlmcp",
    version,
    about = "erlmcp: MCP server runtime and client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo server.
    Serve(ServeArgs),
    /// Send one request to a server and print its JSON result.
    Call(CallArgs),
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Listen {
    /// Serve one session on stdin/stdout.
    #[arg(long)]
    stdio: bool,
    /// Serve TCP connections on this address (e.g. 127.0.0.1:7400).
    #[arg(long, value_name = "ADDR")]
    tcp: Option<SocketAddr>,
    /// Serve Streamable HTTP on this address, endpoint `/mcp` (e.g. 127.0.0.1:7401).
    /// Only loopback Host and Origin values are accepted.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    listen: Listen,
    /// Milliseconds to wait for `initialize` before ending a session.
    #[arg(long, default_value_t = 30_000)]
    init_timeout_ms: u64,
    /// Requests handled concurrently per session.
    #[arg(long, default_value_t = 64)]
    max_concurrent: usize,
    /// Serve the files under this directory as sandboxed `file://` resources
    /// (repeatable).
    #[arg(long, value_name = "DIR")]
    root: Vec<std::path::PathBuf>,
}

#[derive(Args)]
struct CallArgs {
    /// The method, e.g. `tools/list`.
    method: String,
    /// The params as a JSON object.
    params: Option<String>,
    /// Connect to a TCP server at this address.
    #[arg(long, value_name = "ADDR", conflicts_with = "command")]
    tcp: Option<SocketAddr>,
    /// Timeout in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    /// The server command to spawn (after `--`), speaking MCP on its stdio.
    #[arg(last = true)]
    command: Vec<String>,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ERLMCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("erlmcp: cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Call(args) => call(args).await,
        }
    });
    // The stdio transport reads stdin on a blocking thread; a session that ended before
    // EOF (an error, the init timeout) leaves that read parked, and it must not hold the
    // process open (dropping the runtime would wait for it).
    runtime.shutdown_background();
    code
}

async fn serve(args: ServeArgs) -> ExitCode {
    let config = SessionConfig {
        init_timeout: Duration::from_millis(args.init_timeout_ms),
        max_concurrent_requests: args.max_concurrent,
        ..SessionConfig::default()
    };
    let sandbox = if args.root.is_empty() {
        None
    } else {
        match erlmcp_security::Sandbox::new(&args.root) {
            Ok(sandbox) => Some(sandbox),
            Err(err) => {
                eprintln!("erlmcp: cannot use --root: {err}");
                return ExitCode::FAILURE;
            }
        }
    };
    let server = erlmcp::demo::server_with_roots(config, sandbox);
    if args.listen.stdio {
        serve_stdio_supervised(server).await
    } else if let Some(addr) = args.listen.tcp {
        serve_tcp_supervised(server, addr).await
    } else if let Some(addr) = args.listen.http {
        serve_http_supervised(server, addr).await
    } else {
        eprintln!("erlmcp: choose --stdio, --tcp ADDR or --http ADDR");
        ExitCode::FAILURE
    }
}

/// Serves the one stdio session under the supervised runtime; the runtime (and the
/// process) ends when stdin reaches EOF: exit 0 for a clean end, 1 if the session failed.
async fn serve_stdio_supervised(server: erlmcp::Server) -> ExitCode {
    let max_frame = erlmcp::codec::DEFAULT_MAX_FRAME_BYTES;
    let runtime = match erlmcp::runtime::Runtime::builder(server)
        .stdio(max_frame)
        .start()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("erlmcp: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.run_until_stdio_ends().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_runtime_end(&err);
            ExitCode::FAILURE
        }
    }
}

/// Serves TCP under the supervised runtime (registry, session bulkheads, a listener that
/// is restarted if it crashes) until the runtime ends.
async fn serve_tcp_supervised(server: erlmcp::Server, addr: SocketAddr) -> ExitCode {
    let max_frame = erlmcp::codec::DEFAULT_MAX_FRAME_BYTES;
    let acceptor = match erlmcp::transport::TcpAcceptor::bind(addr, max_frame).await {
        Ok(acceptor) => acceptor,
        Err(err) => {
            eprintln!("erlmcp: cannot serve on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = erlmcp::runtime::Runtime::builder(server)
        .tcp(acceptor)
        .start();
    run_supervised(runtime).await
}

/// Serves Streamable HTTP under the supervised runtime (as TCP: the session-accept loop
/// is restarted if it crashes) until the runtime ends.
async fn serve_http_supervised(server: erlmcp::Server, addr: SocketAddr) -> ExitCode {
    let config = erlmcp::net_http::config_for(addr);
    let listener = match erlmcp::transport::http::HttpListener::bind(config).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("erlmcp: cannot serve HTTP on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = erlmcp::runtime::Runtime::builder(server)
        .http(listener)
        .start();
    run_supervised(runtime).await
}

fn report_runtime_end(err: &erlmcp::runtime::RuntimeError) {
    let cause = std::error::Error::source(err)
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    eprintln!("erlmcp: runtime ended: {err}{cause}");
}

async fn run_supervised(
    runtime: Result<erlmcp::runtime::Runtime, erlmcp::runtime::RuntimeError>,
) -> ExitCode {
    let mut runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("erlmcp: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(tcp = ?runtime.tcp_addrs(), http = ?runtime.http_addrs(), "listening");
    match runtime.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_runtime_end(&err);
            ExitCode::FAILURE
        }
    }
}

async fn call(args: CallArgs) -> ExitCode {
    let params: Value = match args.params.as_deref() {
        None => Value::Object(Default::default()),
        Some(text) => match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                eprintln!("erlmcp: params must be a JSON object");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("erlmcp: params are not valid JSON: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let builder = ClientBuilder::new("erlmcp-cli", env!("CARGO_PKG_VERSION"));
    let client = if let Some(addr) = args.tcp {
        erlmcp::net::connect_tcp(builder, addr).await
    } else if let Some((program, rest)) = args.command.split_first() {
        let mut command = tokio::process::Command::new(program);
        command.args(rest);
        erlmcp::net::connect_child(builder, &mut command).await
    } else {
        eprintln!("erlmcp: give --tcp ADDR or a server command after `--`");
        return ExitCode::FAILURE;
    };
    let client = match client {
        Ok(client) => client,
        Err(err) => {
            eprintln!("erlmcp: could not connect: {err}");
            return ExitCode::FAILURE;
        }
    };
    let options = RequestOptions::with_timeout(Duration::from_millis(args.timeout_ms));
    let outcome: Result<Value, _> = client.request(&args.method, params, options).await;
    let code = match outcome {
        Ok(result) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&result).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            match err.rpc_error() {
                Some(rpc) => eprintln!("{}", serde_json::to_string_pretty(rpc).unwrap_or_default()),
                None => eprintln!("erlmcp: request failed: {err}"),
            }
            ExitCode::FAILURE
        }
    };
    let _ = client.close().await;
    code
}
