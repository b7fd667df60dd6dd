//! Host and Origin allow-lists, the DNS-rebinding defence of an HTTP server.
//!
//! A page on `evil.example` can make a browser resolve `evil.example` to `127.0.0.1` and
//! talk to a local MCP server. The browser still sends `Host: evil.example` and
//! `Origin: http://evil.example`, so a server that accepts only the hosts and origins it
//! expects is safe. Both lists compare case-insensitively, ignore one trailing dot in a
//! host name, and refuse anything that does not parse strictly (`localhost@evil`,
//! `localhost#x`, spaces, non-ASCII).
//!
//! Whether a *missing* Origin header is acceptable (clients that are not browsers do not
//! send one) is the transport's decision; [`OriginAllowList::check`] judges only a value
//! that is present.
//!
//! ```
//! use erlmcp_security::{HostAllowList, OriginAllowList};
//!
//! let hosts = HostAllowList::localhost();
//! assert!(hosts.check("localhost:8080").is_ok());
//! assert!(hosts.check("[::1]:3000").is_ok());
//! assert_eq!(hosts.check("evil.example").unwrap_err().kind(), "host.not_allowed");
//!
//! let origins = OriginAllowList::new(["https://app.example.com", "http://localhost:*"])?;
//! assert!(origins.check("https://APP.example.com").is_ok());
//! assert!(origins.check("http://localhost:5173").is_ok());
//! assert!(origins.check("https://app.example.com.evil.example").is_err());
//! assert!(origins.check("null").is_err());
//! # Ok::<(), erlmcp_security::SecurityError>(())
//! ```

use crate::error::{ConfigFault, SecurityError};
use crate::event;

/// A host and optional port, parsed from `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authority {
    /// Lowercase; without a trailing dot; IPv6 with its brackets.
    host: String,
    port: Option<u16>,
}

fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn parse_port(port: &str) -> Option<Option<u16>> {
    if port.is_empty() {
        return Some(None);
    }
    if port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok().map(Some)
}

/// Parses `host[:port]` as a Host header or the authority of an Origin has it: a
/// registered name, an IPv4 address or a bracketed IPv6 address, nothing else.
fn parse_authority(s: &str) -> Option<Authority> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => parse_port(p.strip_prefix(':')?)?,
        };
        (format!("[{}]", inner.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, parse_port(p)?),
            None => (s, None),
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() || !host.bytes().all(is_reg_name_byte) || host.contains("..") {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    Some(Authority { host, port })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Is(Option<u16>),
}

impl PortRule {
    fn allows(&self, port: Option<u16>) -> bool {
        match self {
            PortRule::Any => true,
            PortRule::Is(p) => *p == port,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct HostEntry {
    /// For `*.example.com`: `.example.com`, matched as a suffix.
    host: String,
    wildcard: bool,
    port: PortRule,
}

impl HostEntry {
    fn allows(&self, a: &Authority) -> bool {
        let host_ok = if self.wildcard {
            a.host.len() > self.host.len() && a.host.ends_with(&self.host)
        } else {
            a.host == self.host
        };
        host_ok && self.port.allows(a.port)
    }
}

/// Splits `host[:port]`, `host:*` or `*.suffix[:port]` into a host entry.
fn parse_host_entry(entry: &str) -> Option<HostEntry> {
    let (rest, wildcard) = match entry.strip_prefix("*.") {
        Some(rest) => (rest, true),
        None => (entry, false),
    };
    let (rest, any_port) = match rest.strip_suffix(":*") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let a = parse_authority(rest)?;
    let port = match (any_port, a.port) {
        (true, Some(_)) => return None,
        (true, None) => PortRule::Any,
        (false, p) => PortRule::Is(p),
    };
    let host = if wildcard {
        format!(".{}", a.host)
    } else {
        a.host
    };
    Some(HostEntry {
        host,
        wildcard,
        port,
    })
}

/// The hosts a server answers to (the `Host` header), for DNS-rebinding protection.
///
/// Entries are `host` (any port), `host:port` (that port only, or no port at all if
/// the port is empty), `host:*` (any port, said explicitly) and `*.example.com` (any
/// subdomain, not `example.com` itself). Hosts are registered names, IPv4 addresses or
/// bracketed IPv6 addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAllowList {
    entries: Vec<HostEntry>,
}

impl HostAllowList {
    /// Builds a list; an entry that does not parse is a configuration error.
    pub fn new<I, S>(entries: I) -> Result<Self, SecurityError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries = entries
            .into_iter()
            .map(|e| {
                let e = e.as_ref();
                let entry = parse_host_entry(e)
                    .ok_or_else(|| SecurityError::config(ConfigFault::BadHostEntry))?;
                // An entry without a port accepts any port: the Host check is about the
                // name a browser resolved, not about which port it connected to.
                Ok(match entry.port {
                    PortRule::Is(None) if !e.ends_with(':') => HostEntry {
                        port: PortRule::Any,
                        ..entry
                    },
                    _ => entry,
                })
            })
            .collect::<Result<_, SecurityError>>()?;
        Ok(HostAllowList { entries })
    }

    /// `localhost`, `127.0.0.1` and `[::1]`, any port: the list for a server bound to the
    /// loopback interface.
    pub fn localhost() -> Self {
        let entry = |host: &str| HostEntry {
            host: host.to_owned(),
            wildcard: false,
            port: PortRule::Any,
        };
        HostAllowList {
            entries: vec![entry("localhost"), entry("127.0.0.1"), entry("[::1]")],
        }
    }

    /// True if `host` (a Host header value) is allowed. Records nothing.
    pub fn is_allowed(&self, host: &str) -> bool {
        parse_authority(host).is_some_and(|a| self.entries.iter().any(|e| e.allows(&a)))
    }

    /// Checks a Host header value; a refusal is recorded as a security event.
    pub fn check(&self, host: &str) -> Result<(), SecurityError> {
        if self.is_allowed(host) {
            Ok(())
        } else {
            Err(event::refused(SecurityError::HostNotAllowed))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginEntry {
    Null,
    Site { scheme: String, host: HostEntry },
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `scheme://authority` with nothing after the authority.
fn split_origin(s: &str) -> Option<(String, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| (scheme.to_ascii_lowercase(), rest))
}

fn parse_origin(s: &str) -> Option<(String, Authority)> {
    let (scheme, rest) = split_origin(s)?;
    let mut a = parse_authority(rest)?;
    if a.port.is_none() {
        a.port = default_port(&scheme);
    }
    Some((scheme, a))
}

/// The origins allowed to call a server from a browser (the `Origin` header), for
/// DNS-rebinding and cross-site protection.
///
/// Entries are serialised origins: `scheme://host[:port]`, with `:*` for any port and
/// `*.example.com` for any subdomain; a missing port means the scheme's default (so
/// `https://a.example` matches `https://a.example:443`). The opaque origin `null` (sent by
/// sandboxed frames and `file:` pages) is refused unless the list contains `"null"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginAllowList {
    entries: Vec<OriginEntry>,
}

impl OriginAllowList {
    /// Builds a list; an entry that does not parse is a configuration error.
    pub fn new<I, S>(entries: I) -> Result<Self, SecurityError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let bad = || SecurityError::config(ConfigFault::BadOriginEntry);
        let entries = entries
            .into_iter()
            .map(|e| {
                let e = e.as_ref();
                if e == "null" {
                    return Ok(OriginEntry::Null);
                }
                let (scheme, authority) = split_origin(e).ok_or_else(bad)?;
                let mut host = parse_host_entry(authority).ok_or_else(bad)?;
                if host.port == PortRule::Is(None) {
                    host.port = PortRule::Is(default_port(&scheme));
                }
                Ok(OriginEntry::Site { scheme, host })
            })
            .collect::<Result<_, SecurityError>>()?;
        Ok(OriginAllowList { entries })
    }

    /// `http` and `https` on `localhost`, `127.0.0.1` and `[::1]`, any port.
    pub fn localhost() -> Self {
        let site = |scheme: &str, host: &str| OriginEntry::Site {
            scheme: scheme.to_owned(),
            host: HostEntry {
                host: host.to_owned(),
                wildcard: false,
                port: PortRule::Any,
            },
        };
        let mut entries = Vec::new();
        for scheme in ["http", "https"] {
            for host in ["localhost", "127.0.0.1", "[::1]"] {
                entries.push(site(scheme, host));
            }
        }
        OriginAllowList { entries }
    }

    /// True if `origin` (an Origin header value) is allowed. Records nothing.
    pub fn is_allowed(&self, origin: &str) -> bool {
        if origin == "null" {
            return self.entries.contains(&OriginEntry::Null);
        }
        let Some((scheme, authority)) = parse_origin(origin) else {
            return false;
        };
        self.entries.iter().any(|e| match e {
            OriginEntry::Null => false,
            OriginEntry::Site { scheme: s, host } => *s == scheme && host.allows(&authority),
        })
    }

    /// Checks an Origin header value; a refusal is recorded as a security event.
    pub fn check(&self, origin: &str) -> Result<(), SecurityError> {
        if self.is_allowed(origin) {
            Ok(())
        } else {
            Err(event::refused(SecurityError::OriginNotAllowed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_parsing() {
        let a = |s| parse_authority(s).map(|a| (a.host, a.port));
        assert_eq!(a("LocalHost:8080"), Some(("localhost".into(), Some(8080))));
        assert_eq!(a("localhost."), Some(("localhost".into(), None)));
        assert_eq!(a("[::1]:80"), Some(("[::1]".into(), Some(80))));
        assert_eq!(a("localhost:"), Some(("localhost".into(), None)));
        for bad in [
            "",
            ":80",
            "localhost:99999",
            "localhost:8o",
            "a b",
            "evil@localhost",
            "localhost#x",
            "[::1",
            "[zz]",
            "[::1]x",
            "a..b",
            "ex\u{e4}mple",
            "localhost:80:80",
        ] {
            assert_eq!(a(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn host_entries() {
        let list = HostAllowList::new(["example.com:8443", "*.internal", "api.test:"]).ok();
        let list = list.as_ref().map(|l| {
            (
                l.is_allowed("example.com:8443"),
                l.is_allowed("example.com"),
                l.is_allowed("a.b.internal:1"),
                l.is_allowed("internal"),
                l.is_allowed("api.test"),
                l.is_allowed("api.test:80"),
            )
        });
        assert_eq!(list, Some((true, false, true, false, true, false)));
        assert!(HostAllowList::new(["http://x"]).is_err());
        assert!(HostAllowList::new(["x:*:*"]).is_err());
    }
}
