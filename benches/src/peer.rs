//! The ceiling peer: a "server" that does no JSON work at all.
//!
//! It reads newline-delimited lines, finds the top-level `"id":` value with the byte
//! scanner in [`crate::wire`], and answers with a result line of the same size as the
//! request. Lines without an id (notifications) are consumed silently. It never parses
//! JSON and flushes only when no more input is buffered, so its throughput is what the
//! transport, the kernel and the harness allow on this machine: the ceiling erlmcp's
//! figures are compared with.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;

use anyhow::{Context, bail};

use crate::wire::{ceiling_response, find_id, trim_line_end};

const READ_BUFFER: usize = 256 * 1024;
const WRITE_BUFFER: usize = 256 * 1024;

/// Serves one newline-delimited stream until end of input.
pub fn serve<R: Read, W: Write>(input: R, output: W) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, input);
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER, output);
    let mut line = Vec::with_capacity(64 * 1024);
    let mut response = Vec::with_capacity(64 * 1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return writer.flush();
        }
        let body = trim_line_end(&line);
        if let Some(id) = find_id(body) {
            response.clear();
            ceiling_response(id, body.len(), &mut response);
            writer.write_all(&response)?;
        }
        if reader.buffer().is_empty() {
            writer.flush()?;
        }
    }
}

/// Serves stdin → stdout until stdin closes. Both are used as raw file descriptors,
/// bypassing std's line-buffered stdout.
pub fn run_stdio() -> anyhow::Result<()> {
    let input = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let output = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    serve(input, output).context("ceiling peer on stdio")
}

/// Listens on a loopback address and serves every connection on its own thread, until
/// the process is killed. Non-loopback addresses are refused: the harness is for local
/// measurements only.
pub fn run_tcp(addr: SocketAddr) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() {
        bail!("the ceiling peer listens on loopback addresses only, not {addr}");
    }
    let listener = TcpListener::bind(addr).with_context(|| format!("bind {addr}"))?;
    eprintln!("listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let result = stream
                .try_clone()
                .and_then(|write_half| serve(&stream, write_half));
            if let Err(e) = result {
                eprintln!("connection ended: {e}");
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_requests_and_swallows_notifications() {
        let mut input = Vec::new();
        crate::wire::PaddedLines::new(300).echo_call(1, &mut input);
        input.extend_from_slice(
            concat!(
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                "\r\n\n",
                r#"{"jsonrpc":"2.0","id":"s","method":"ping"}"#,
                "\n",
            )
            .as_bytes(),
        );
        let mut out = Vec::new();
        serve(&input[..], &mut out).unwrap();
        let lines: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["id"], 1);
        assert_eq!(lines[1]["id"], "s");
        let first_len = out.iter().position(|&b| b == b'\n').unwrap();
        assert_eq!(first_len, 300);
    }
}
