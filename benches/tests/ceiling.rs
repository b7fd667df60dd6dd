//! The load harness against its own ceiling peer, over stdio and TCP, for about a second;
//! and against a misbehaving peer, whose wrong ids must be errors.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use erlmcp_benches::driver::{Connection, LoadConfig};
use erlmcp_benches::scenario::{self, RunConfig, Scenario};
use erlmcp_benches::spawn::{Target, Transport};
use erlmcp_benches::wire::{find_id, parse_u64, trim_line_end};

fn config(millis: u64) -> RunConfig {
    RunConfig {
        load: LoadConfig {
            payload: 4096,
            duration: Duration::from_millis(millis),
            max_messages: 5_000_000,
            drain_timeout: Duration::from_secs(10),
        },
        connect_timeout: Duration::from_secs(10),
    }
}

#[test]
fn ceiling_over_stdio_and_tcp() {
    let ceiling = Target::ceiling(env!("CARGO_BIN_EXE_load"));
    let config = config(150);
    for transport in [Transport::Stdio, Transport::Tcp] {
        for scenario in [
            Scenario::RoundTrip { in_flight: 1 },
            Scenario::RoundTrip { in_flight: 64 },
            Scenario::OneWay,
        ] {
            let r = scenario::run(&ceiling, transport, scenario, &config)
                .unwrap_or_else(|e| panic!("{scenario} over {transport}: {e:#}"));
            eprintln!(
                "{transport} {scenario}: {} msgs in {:.3}s = {:.0} msgs/s",
                r.messages, r.seconds, r.msgs_per_sec
            );
            assert!(r.messages > 0 && r.msgs_per_sec > 0.0, "{r:?}");
            assert_eq!(r.server, "ceiling");
            assert_eq!(r.transport, transport.to_string());
            match scenario {
                Scenario::RoundTrip { in_flight } => {
                    // Every answer was matched to a request in flight and timed.
                    let latency = r.latency.as_ref().expect("round trips have latency");
                    assert_eq!(latency.count, r.messages);
                    assert!(latency.p50 >= 1 && latency.p50 <= latency.p99_9);
                    assert_eq!(r.in_flight, Some(in_flight));
                }
                Scenario::OneWay => assert!(r.latency.is_none()),
            }
        }
    }
}

/// A TCP peer that answers every request with `wrong(id)` as the id.
fn misbehaving_peer(wrong: fn(u64) -> String) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut out = stream.try_clone().expect("clone stream");
        for line in BufReader::new(stream).split(b'\n') {
            let Ok(line) = line else { return };
            let Some(id) = find_id(trim_line_end(&line)).and_then(parse_u64) else {
                continue;
            };
            let id = if id == 0 { "0".to_owned() } else { wrong(id) };
            let answer = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}\n");
            if out.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    });
    addr
}

fn round_trip_against(addr: std::net::SocketAddr) -> anyhow::Result<u64> {
    let stream = std::net::TcpStream::connect(addr)?;
    let mut conn = Connection::new(stream.try_clone()?, stream);
    conn.handshake()?;
    Ok(conn.round_trip(&config(200).load, 4, false)?.messages)
}

#[test]
fn unknown_response_ids_are_errors() {
    let err = round_trip_against(misbehaving_peer(|id| (id + 1000).to_string())).unwrap_err();
    assert!(
        format!("{err:#}").contains("matches no request in flight"),
        "{err:#}"
    );
    let err = round_trip_against(misbehaving_peer(|id| format!("\"{id}\""))).unwrap_err();
    assert!(
        format!("{err:#}").contains("matches no request in flight"),
        "{err:#}"
    );
}

#[test]
fn error_responses_are_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut out = stream.try_clone().expect("clone stream");
        for line in BufReader::new(stream).split(b'\n') {
            let Ok(line) = line else { return };
            let Some(id) = find_id(trim_line_end(&line)).and_then(parse_u64) else {
                continue;
            };
            let answer = if id == 0 {
                "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}\n".to_owned()
            } else {
                format!(
                    "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{{\"code\":-32601,\"message\":\"no\"}}}}\n"
                )
            };
            if out.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    });
    let err = round_trip_against(addr).unwrap_err();
    assert!(format!("{err:#}").contains("failed"), "{err:#}");
}
