//! The one error type of this crate, [`SecurityError`], grouped by who is at fault.
//!
//! | group ([`Fault`]) | meaning | counted as a security event |
//! |---|---|---|
//! | [`Fault::Limit`] | larger than a configured limit; refused before parsing | yes |
//! | [`Fault::Malformed`] | not well-formed (not a URI, not a header token) | yes |
//! | [`Fault::Attack`] | well-formed, but a disguised traversal or a lookalike name | yes |
//! | [`Fault::Policy`] | well-formed and honest, but not allowed (scheme, host, root) | yes |
//! | [`Fault::Misuse`] | the caller's mistake: a bad template or configuration | no |
//! | [`Fault::Io`] | the file system failed while opening a resource | no |
//!
//! Errors never carry the refused input itself: it is attacker-controlled, may be 8 KiB
//! long and would end up in logs. They carry positions and reasons instead, so they are
//! cheap to build and safe to print. Each error has a stable [`SecurityError::kind`]
//! string (`"traversal.encoded_dot"`, `"header.crlf"`, …) that events and counters use.
//! JSON-RPC codes are not decided here; `erlmcp-codec` owns that mapping.

use std::{fmt, io};

/// Who is at fault for a refusal. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The input is larger than a configured limit.
    Limit,
    /// The input is not well-formed.
    Malformed,
    /// The input disguises a path traversal or a lookalike name.
    Attack,
    /// The input is well-formed but not allowed by policy.
    Policy,
    /// The caller misused the API (bad template, bad configuration, wrong value type).
    Misuse,
    /// The file system failed.
    Io,
}

/// What was too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subject {
    /// A URI, checked before it is parsed.
    Uri,
    /// A URI template, checked before it is parsed.
    Template,
    /// The result of expanding a URI template.
    Expansion,
    /// One header name.
    HeaderName,
    /// One header value.
    HeaderValue,
    /// All headers of one message together.
    HeaderBlock,
    /// A variable name in a URI template.
    VariableName,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Subject::Uri => "URI",
            Subject::Template => "URI template",
            Subject::Expansion => "template expansion",
            Subject::HeaderName => "header name",
            Subject::HeaderValue => "header value",
            Subject::HeaderBlock => "header block",
            Subject::VariableName => "template variable name",
        })
    }
}

/// What there were too many of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Counted {
    /// Headers in one message.
    Headers,
    /// Expressions (`{…}`) in one URI template.
    TemplateExpressions,
    /// Variables in one URI template, over all its expressions.
    TemplateVariables,
}

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Counted::Headers => "headers",
            Counted::TemplateExpressions => "template expressions",
            Counted::TemplateVariables => "template variables",
        })
    }
}

/// Why a URI is not well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UriSyntax {
    /// The input is empty.
    Empty,
    /// A `%` not followed by two hexadecimal digits.
    BadPercentEncoding,
    /// A character that RFC 3986 (or RFC 3987, for non-ASCII) does not allow here.
    UnexpectedChar,
    /// A bracketed IPv6 literal that is not a valid address.
    BadIpv6,
    /// A relative reference where an absolute URI (one with a scheme) is required.
    MissingScheme,
    /// A non-ASCII character, and the policy allows only ASCII URIs.
    NonAscii,
    /// A control character (C0, DEL or C1), raw.
    ControlChar,
    /// A port that is not a number in `0..=65535`.
    BadPort,
    /// A host name that still holds percent-encoded octets after canonicalisation: a
    /// reserved character, a control character or bytes that are not UTF-8.
    BadHost,
}

impl fmt::Display for UriSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriSyntax::Empty => "empty input",
            UriSyntax::BadPercentEncoding => "bad percent-encoding",
            UriSyntax::UnexpectedChar => "unexpected character",
            UriSyntax::BadIpv6 => "bad IPv6 literal",
            UriSyntax::MissingScheme => "missing scheme (relative reference)",
            UriSyntax::NonAscii => "non-ASCII character",
            UriSyntax::ControlChar => "control character",
            UriSyntax::BadPort => "bad port",
            UriSyntax::BadHost => "percent-encoded reserved or control octet in host",
        })
    }
}

/// Why a URI template is not well-formed (RFC 6570 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateSyntax {
    /// A `{` without its `}`.
    UnclosedExpression,
    /// A `}` outside an expression.
    UnopenedBrace,
    /// A `{` inside an expression: expressions do not nest.
    NestedBrace,
    /// An expression without variables, such as `{}` or `{+}`.
    EmptyExpression,
    /// An operator RFC 6570 reserves for future extensions (`=`, `,`, `!`, `@`, `|`).
    ReservedOperator,
    /// A variable name with a character outside `ALPHA / DIGIT / "_" / pct-encoded`, or
    /// a misplaced `.`.
    BadVariableName,
    /// A prefix modifier that is not `:` followed by a number in `1..=9999`.
    BadPrefix,
    /// A literal character that is not allowed outside expressions (space, `"`, `<`, …),
    /// or a `%` that does not start a valid percent-encoded octet.
    BadLiteral,
}

impl fmt::Display for TemplateSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TemplateSyntax::UnclosedExpression => "unclosed expression",
            TemplateSyntax::UnopenedBrace => "unmatched '}'",
            TemplateSyntax::NestedBrace => "nested '{'",
            TemplateSyntax::EmptyExpression => "empty expression",
            TemplateSyntax::ReservedOperator => "reserved operator",
            TemplateSyntax::BadVariableName => "bad variable name",
            TemplateSyntax::BadPrefix => "bad prefix modifier",
            TemplateSyntax::BadLiteral => "character not allowed in a literal",
        })
    }
}

/// Why a header value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderFault {
    /// A carriage return: the start of a header-injection (response-splitting) attempt.
    Cr,
    /// A line feed: the start of a header-injection attempt.
    Lf,
    /// A NUL byte, which truncates the value in C-based parsers.
    Nul,
    /// Another control byte (`0x01..=0x1f` except tab, or `0x7f`).
    Control,
    /// Space or tab at the start or end, which RFC 9110 field values do not have.
    EdgeWhitespace,
}

impl fmt::Display for HeaderFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderFault::Cr => "carriage return",
            HeaderFault::Lf => "line feed",
            HeaderFault::Nul => "NUL byte",
            HeaderFault::Control => "control byte",
            HeaderFault::EdgeWhitespace => "leading or trailing whitespace",
        })
    }
}

/// How a path traversal was disguised. Every one of these is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disguise {
    /// A `.` or `..` path segment, or one made only of dots and spaces (`...`, `.. `),
    /// which Windows reads as `..`.
    DotSegment,
    /// A dot segment written with percent-encoding: `%2e%2e`, `.%2E`.
    EncodedDotSegment,
    /// Percent-encoding that is still percent-encoding after one decoding: `%252e`.
    DoubleEncoding,
    /// An overlong UTF-8 sequence such as `%c0%ae` (an illegal spelling of `.`).
    OverlongUtf8,
    /// Percent-decoded bytes that are not UTF-8.
    InvalidUtf8,
    /// A Unicode character that is, or normalises to, a dot, a slash or a backslash:
    /// fullwidth `．／＼`, `∕` (division slash), `⁄` (fraction slash), `‥` …
    UnicodeSeparator,
    /// A backslash, raw or as `%5c`: a path separator on Windows.
    Backslash,
    /// A slash inside a segment, written `%2f`.
    EncodedSlash,
    /// A NUL byte, raw or as `%00`, which truncates paths in C-based code.
    NulByte,
    /// Another control character after percent-decoding (`%0a`, `%1b`, …).
    ControlChar,
    /// An absolute path (`/etc/passwd`) or a network-path reference (`//host/x`) where a
    /// relative path is expected.
    AbsolutePath,
    /// A Windows drive letter (`C:`, `c|`) where a relative path is expected.
    DriveLetter,
    /// A Windows special name inside a relative path: an alternate data stream (`:`), a
    /// device name (`CON`, `NUL`, `COM1`, …) or a trailing dot or space.
    WindowsSpecial,
    /// An empty segment (`a//b`) inside a relative path.
    EmptySegment,
    /// More `..` segments than there are segments to remove (only reachable when the
    /// policy allows dot segments at all).
    PathUnderflow,
}

impl Disguise {
    fn kind(self) -> &'static str {
        match self {
            Disguise::DotSegment => "traversal.dot_segment",
            Disguise::EncodedDotSegment => "traversal.encoded_dot",
            Disguise::DoubleEncoding => "traversal.double_encoding",
            Disguise::OverlongUtf8 => "traversal.overlong_utf8",
            Disguise::InvalidUtf8 => "traversal.invalid_utf8",
            Disguise::UnicodeSeparator => "traversal.unicode_separator",
            Disguise::Backslash => "traversal.backslash",
            Disguise::EncodedSlash => "traversal.encoded_slash",
            Disguise::NulByte => "traversal.nul_byte",
            Disguise::ControlChar => "traversal.control_char",
            Disguise::AbsolutePath => "traversal.absolute_path",
            Disguise::DriveLetter => "traversal.drive_letter",
            Disguise::WindowsSpecial => "traversal.windows_special",
            Disguise::EmptySegment => "traversal.empty_segment",
            Disguise::PathUnderflow => "traversal.underflow",
        }
    }
}

impl fmt::Display for Disguise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disguise::DotSegment => "dot segment",
            Disguise::EncodedDotSegment => "percent-encoded dot segment",
            Disguise::DoubleEncoding => "double percent-encoding",
            Disguise::OverlongUtf8 => "overlong UTF-8",
            Disguise::InvalidUtf8 => "invalid UTF-8",
            Disguise::UnicodeSeparator => "Unicode lookalike of a dot or slash",
            Disguise::Backslash => "backslash",
            Disguise::EncodedSlash => "percent-encoded slash",
            Disguise::NulByte => "NUL byte",
            Disguise::ControlChar => "control character",
            Disguise::AbsolutePath => "absolute path in a relative reference",
            Disguise::DriveLetter => "drive letter",
            Disguise::WindowsSpecial => "Windows special name",
            Disguise::EmptySegment => "empty segment",
            Disguise::PathUnderflow => "'..' above the top of the path",
        })
    }
}

/// Where a confusable name was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Place {
    /// A host name (including the Unicode form of `xn--` labels).
    Host,
    /// A path segment, after percent-decoding.
    PathSegment,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Place::Host => "host",
            Place::PathSegment => "path segment",
        })
    }
}

/// Why a name was judged confusable (UTS #39).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Confusion {
    /// Letters from more scripts than the configured restriction level allows, such as
    /// Latin mixed with Cyrillic (`pаypal` with a Cyrillic `а`).
    MixedScript,
    /// A name in a non-Latin script that looks exactly like an ASCII name (`аррӏе`, all
    /// Cyrillic): a whole-script confusable.
    Lookalike,
    /// An invisible character: zero-width, bidirectional control, soft hyphen, or another
    /// default-ignorable code point.
    Invisible,
    /// A character that UTS #39 does not allow in identifiers (host names only).
    DisallowedChar,
    /// An `xn--` label that is not valid Punycode.
    BadPunycode,
}

impl Confusion {
    fn kind(self) -> &'static str {
        match self {
            Confusion::MixedScript => "confusable.mixed_script",
            Confusion::Lookalike => "confusable.lookalike",
            Confusion::Invisible => "confusable.invisible",
            Confusion::DisallowedChar => "confusable.disallowed_char",
            Confusion::BadPunycode => "confusable.bad_punycode",
        }
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confusion::MixedScript => "mixed scripts",
            Confusion::Lookalike => "lookalike of an ASCII name",
            Confusion::Invisible => "invisible character",
            Confusion::DisallowedChar => "character not allowed in identifiers",
            Confusion::BadPunycode => "invalid Punycode",
        })
    }
}

/// What is wrong with a configuration or allow-list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigFault {
    /// A limit is zero.
    ZeroLimit,
    /// A sandbox root does not exist, is not a directory, or cannot be opened.
    BadRoot,
    /// A sandbox root is not valid UTF-8, so no `file://` URI can name it.
    NonUtf8Root,
    /// A Host allow-list entry is not `host` or `host:port`.
    BadHostEntry,
    /// An Origin allow-list entry is not `scheme://host[:port]`.
    BadOriginEntry,
    /// A scheme in the allowed-schemes list is not a valid scheme.
    BadScheme,
}

impl fmt::Display for ConfigFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigFault::ZeroLimit => "a limit is zero",
            ConfigFault::BadRoot => "a sandbox root is not an openable directory",
            ConfigFault::NonUtf8Root => "a sandbox root is not valid UTF-8",
            ConfigFault::BadHostEntry => "a Host allow-list entry is not host[:port]",
            ConfigFault::BadOriginEntry => "an Origin allow-list entry is not scheme://host[:port]",
            ConfigFault::BadScheme => "an allowed scheme is not a valid scheme",
        })
    }
}

/// Everything this crate refuses, and why. See the [module documentation](self) for the
/// grouping; [`SecurityError::fault`] returns the group and [`SecurityError::kind`] a
/// stable string for events and counters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    // ----- Limit -----
    /// The input is longer than its configured limit; it was refused before parsing.
    #[error("{subject} is {len} bytes, over the limit of {max}")]
    TooLong {
        /// What was too long.
        subject: Subject,
        /// Its length in bytes (for an expansion: the length when it was stopped).
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// More items than the configured limit.
    #[error("{count} {subject}, over the limit of {max}")]
    TooMany {
        /// What there were too many of.
        subject: Counted,
        /// How many there were (at least; counting stops past the limit).
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// A URI template whose matcher would be larger than the matching engine allows
    /// (only reachable with template limits raised far above their defaults).
    #[error("URI template too complex to match")]
    TemplateTooComplex,
    /// A resource file is larger than the configured limit.
    #[error("resource is {len} bytes, over the limit of {max}")]
    ResourceTooLarge {
        /// Its size in bytes.
        len: u64,
        /// The configured limit.
        max: u64,
    },

    // ----- Malformed -----
    /// Not a URI (RFC 3986; RFC 3987 for non-ASCII).
    #[error("not a valid URI: {reason} at byte {index}")]
    MalformedUri {
        /// Byte offset of the problem in the input.
        index: usize,
        /// What is wrong.
        reason: UriSyntax,
    },
    /// A header name is empty.
    #[error("header name is empty")]
    EmptyHeaderName,
    /// A header name has a byte that is not an RFC 9110 token character.
    #[error("header name has byte {byte:#04x} at {index}, which is not a token character")]
    InvalidHeaderName {
        /// Byte offset in the name.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
    /// A header value has a byte that could split or truncate the header.
    #[error("header value has a {fault} at byte {index}")]
    InvalidHeaderValue {
        /// Byte offset in the value.
        index: usize,
        /// What was found.
        fault: HeaderFault,
    },

    // ----- Attack -----
    /// A path traversal, in one of its disguises.
    #[error("path traversal refused: {disguise}")]
    Traversal {
        /// How it was disguised.
        disguise: Disguise,
    },
    /// A confusable or mixed-script name (UTS #39).
    #[error("confusable {place} refused: {reason}")]
    Confusable {
        /// Where it was found.
        place: Place,
        /// Why it is confusable.
        reason: Confusion,
    },

    // ----- Policy -----
    /// The URI's scheme is not in the allowed list (for the sandbox: not `file`).
    #[error("URI scheme not allowed")]
    SchemeNotAllowed,
    /// The URI has a userinfo part (`user:pass@`), which the policy refuses.
    #[error("userinfo in URI not allowed")]
    UserinfoNotAllowed,
    /// The Host (or a `file://` URI's host) is not in the allow-list.
    #[error("host not allowed")]
    HostNotAllowed,
    /// The Origin is not in the allow-list.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// The resource is not under any allowed root.
    #[error("resource is outside every allowed root")]
    OutsideRoots,
    /// The path reaches a symbolic link under a root that points outside that root.
    #[error("symbolic link leads outside the root")]
    SymlinkEscape,
    /// The path names a directory, a device or a FIFO, not a regular file.
    #[error("resource is not a regular file")]
    NotAFile,

    // ----- Misuse -----
    /// Not a URI template (RFC 6570). Templates are written by the server's author, so
    /// this is [`Fault::Misuse`], not a security event.
    #[error("not a valid URI template: {reason} at byte {index}")]
    MalformedTemplate {
        /// Byte offset of the problem in the template.
        index: usize,
        /// What is wrong.
        reason: TemplateSyntax,
    },
    /// A template variable has the wrong kind of value for its modifier: RFC 6570 does
    /// not define a prefix (`{var:3}`) of a list or an associative array.
    #[error("template variable has a composite value under a prefix modifier")]
    CompositePrefix,
    /// A configuration value or allow-list entry is invalid.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: ConfigFault,
    },

    // ----- Io -----
    /// The file system failed while opening or reading a resource (not found, permission
    /// denied, …). See [`SecurityError::is_not_found`].
    #[error("resource could not be opened or read")]
    Io {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl SecurityError {
    /// The group this error belongs to.
    pub fn fault(&self) -> Fault {
        use SecurityError as E;
        match self {
            E::TooLong { .. }
            | E::TooMany { .. }
            | E::TemplateTooComplex
            | E::ResourceTooLarge { .. } => Fault::Limit,
            E::MalformedUri { .. }
            | E::EmptyHeaderName
            | E::InvalidHeaderName { .. }
            | E::InvalidHeaderValue { .. } => Fault::Malformed,
            E::Traversal { .. } | E::Confusable { .. } => Fault::Attack,
            E::SchemeNotAllowed
            | E::UserinfoNotAllowed
            | E::HostNotAllowed
            | E::OriginNotAllowed
            | E::OutsideRoots
            | E::SymlinkEscape
            | E::NotAFile => Fault::Policy,
            E::MalformedTemplate { .. } | E::CompositePrefix | E::InvalidConfig { .. } => {
                Fault::Misuse
            }
            E::Io { .. } => Fault::Io,
        }
    }

    /// A stable, dotted name for this refusal, used as the `kind` of security events and
    /// as the key of the counters. Every possible value is listed in [`KINDS`].
    pub fn kind(&self) -> &'static str {
        use SecurityError as E;
        match self {
            E::TooLong { subject, .. } => match subject {
                Subject::Uri => "uri.too_long",
                Subject::Template => "template.too_long",
                Subject::Expansion => "template.expansion_too_long",
                Subject::HeaderName => "header.name_too_long",
                Subject::HeaderValue => "header.value_too_long",
                Subject::HeaderBlock => "header.block_too_large",
                Subject::VariableName => "template.name_too_long",
            },
            E::TooMany { subject, .. } => match subject {
                Counted::Headers => "header.too_many",
                Counted::TemplateExpressions => "template.too_many_expressions",
                Counted::TemplateVariables => "template.too_many_variables",
            },
            E::TemplateTooComplex => "template.too_complex",
            E::ResourceTooLarge { .. } => "sandbox.too_large",
            E::MalformedUri { .. } => "uri.malformed",
            E::MalformedTemplate { .. } => "template.malformed",
            E::EmptyHeaderName | E::InvalidHeaderName { .. } => "header.bad_name",
            E::InvalidHeaderValue { fault, .. } => match fault {
                HeaderFault::Cr | HeaderFault::Lf => "header.crlf",
                HeaderFault::Nul => "header.nul",
                HeaderFault::Control => "header.control",
                HeaderFault::EdgeWhitespace => "header.whitespace",
            },
            E::Traversal { disguise } => disguise.kind(),
            E::Confusable { reason, .. } => reason.kind(),
            E::SchemeNotAllowed => "uri.scheme_not_allowed",
            E::UserinfoNotAllowed => "uri.userinfo",
            E::HostNotAllowed => "host.not_allowed",
            E::OriginNotAllowed => "origin.not_allowed",
            E::OutsideRoots => "sandbox.outside_roots",
            E::SymlinkEscape => "sandbox.symlink_escape",
            E::NotAFile => "sandbox.not_a_file",
            E::CompositePrefix => "template.composite_prefix",
            E::InvalidConfig { .. } => "config.invalid",
            E::Io { .. } => "sandbox.io",
        }
    }

    /// Whether this refusal is counted and emitted as a security event: true for
    /// untrusted input (limits, malformed, attack, policy), false for caller misuse and
    /// file-system failures.
    pub fn is_security_event(&self) -> bool {
        !matches!(self.fault(), Fault::Misuse | Fault::Io)
    }

    /// True when a resource was refused only because it does not exist (so a server can
    /// answer "resource not found" rather than "refused").
    pub fn is_not_found(&self) -> bool {
        matches!(self, SecurityError::Io { source } if source.kind() == io::ErrorKind::NotFound)
    }

    pub(crate) fn traversal(disguise: Disguise) -> Self {
        SecurityError::Traversal { disguise }
    }

    pub(crate) fn confusable(place: Place, reason: Confusion) -> Self {
        SecurityError::Confusable { place, reason }
    }

    pub(crate) fn config(reason: ConfigFault) -> Self {
        SecurityError::InvalidConfig { reason }
    }
}

/// Every value [`SecurityError::kind`] can return, in a fixed order (the order of the
/// counters in [`crate::SecuritySnapshot`]).
pub const KINDS: &[&str] = &[
    "uri.too_long",
    "uri.malformed",
    "uri.scheme_not_allowed",
    "uri.userinfo",
    "traversal.dot_segment",
    "traversal.encoded_dot",
    "traversal.double_encoding",
    "traversal.overlong_utf8",
    "traversal.invalid_utf8",
    "traversal.unicode_separator",
    "traversal.backslash",
    "traversal.encoded_slash",
    "traversal.nul_byte",
    "traversal.control_char",
    "traversal.absolute_path",
    "traversal.drive_letter",
    "traversal.windows_special",
    "traversal.empty_segment",
    "traversal.underflow",
    "confusable.mixed_script",
    "confusable.lookalike",
    "confusable.invisible",
    "confusable.disallowed_char",
    "confusable.bad_punycode",
    "header.name_too_long",
    "header.value_too_long",
    "header.block_too_large",
    "header.too_many",
    "header.bad_name",
    "header.crlf",
    "header.nul",
    "header.control",
    "header.whitespace",
    "host.not_allowed",
    "origin.not_allowed",
    "template.too_long",
    "template.expansion_too_long",
    "template.name_too_long",
    "template.too_many_expressions",
    "template.too_many_variables",
    "template.too_complex",
    "template.malformed",
    "template.composite_prefix",
    "sandbox.outside_roots",
    "sandbox.symlink_escape",
    "sandbox.not_a_file",
    "sandbox.too_large",
    "sandbox.io",
    "config.invalid",
];
