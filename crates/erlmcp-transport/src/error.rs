//! Transport errors.

use erlmcp_codec::FrameError;

/// Why a transport failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The underlying I/O failed (connection reset, broken pipe, …).
    #[error("transport I/O failed")]
    Io(#[from] std::io::Error),
    /// An outbound frame could not be encoded (too large, embedded newline).
    #[error("frame could not be encoded")]
    Frame(#[source] FrameError),
    /// The transport is already closed.
    #[error("transport is closed")]
    Closed,
    /// A child process could not be started.
    #[error("could not start child process `{command}`")]
    Spawn {
        /// The command that was run.
        command: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server no longer knows the session (it answered 404 to a request carrying
    /// the session's id): the session ended or expired on the server. Start a new one
    /// with `initialize`.
    #[error("the HTTP session expired or was terminated by the server")]
    SessionExpired,
    /// A URL this transport cannot use (not `http://host[:port]/path`; TLS is not
    /// supported).
    #[error("unusable URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl From<FrameError> for TransportError {
    fn from(err: FrameError) -> Self {
        match err {
            FrameError::Io(io) => TransportError::Io(io),
            other => TransportError::Frame(other),
        }
    }
}

impl TransportError {
    /// True when the peer went away (EOF, reset, broken pipe) rather than something
    /// being wrong with this side.
    pub fn is_disconnect(&self) -> bool {
        match self {
            TransportError::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            ),
            TransportError::Closed => true,
            _ => false,
        }
    }
}
