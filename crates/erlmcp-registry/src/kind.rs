//! Entry kinds: what an entry names (a session, a connection, a server, …).
//!
//! A kind is a small index (`0..MAX_KINDS`), so each shard counts its entries per kind in
//! a fixed array and [`Registry::count_kind`](crate::Registry::count_kind) needs no scan of
//! the entries.

use std::fmt;

/// How many distinct kinds a registry counts separately.
pub const MAX_KINDS: usize = 16;

const NAMES: [&str; MAX_KINDS] = [
    "session",
    "connection",
    "server",
    "http_session",
    "kind4",
    "kind5",
    "kind6",
    "kind7",
    "kind8",
    "kind9",
    "kind10",
    "kind11",
    "kind12",
    "kind13",
    "kind14",
    "kind15",
];

/// What an entry names. The first four are erlmcp's own; applications may use the rest
/// through [`Kind::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(u8);

impl Kind {
    /// A protocol session (key: the session id).
    pub const SESSION: Kind = Kind(0);
    /// A transport connection (key: a connection id).
    pub const CONNECTION: Kind = Kind(1);
    /// A named server (key: its name).
    pub const SERVER: Kind = Kind(2);
    /// A Streamable HTTP session (key: the `Mcp-Session-Id`).
    pub const HTTP_SESSION: Kind = Kind(3);

    /// The kind with this index, if it is below [`MAX_KINDS`]. Indexes 0–3 are the
    /// constants above; 4 and up are free for applications.
    pub const fn new(index: u8) -> Option<Kind> {
        if (index as usize) < MAX_KINDS {
            Some(Kind(index))
        } else {
            None
        }
    }

    /// The kind's index, `0..MAX_KINDS`.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// A short lowercase name (`session`, `connection`, `server`, `http_session`,
    /// `kind4` …), used in metrics.
    pub const fn name(self) -> &'static str {
        NAMES[self.0 as usize]
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_names() {
        assert_eq!(Kind::SESSION.index(), 0);
        assert_eq!(Kind::HTTP_SESSION.name(), "http_session");
        assert_eq!(Kind::new(15).map(Kind::name), Some("kind15"));
        assert_eq!(Kind::new(16), None);
    }
}
