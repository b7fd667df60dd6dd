//! Limits and policy, in one serde struct with documented defaults.
//!
//! [`SecurityConfig`] is meant to be nested in the application's configuration (for
//! example under `[security]` in `erlmcp.toml`); every field has a default, so an empty
//! table is a valid configuration. Unknown fields are refused, so a misspelt limit is an
//! error and not a silently ignored line.
//!
//! ```toml
//! [security.uri]
//! max_bytes = 8192
//! allow_dot_segments = false
//!
//! [security.headers]
//! max_value_bytes = 8192
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{ConfigFault, SecurityError};

/// Every limit and policy switch of this crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// How URIs are parsed and what they may contain.
    pub uri: UriPolicy,
    /// Header size limits.
    pub headers: HeaderLimits,
    /// URI template limits.
    pub templates: TemplateLimits,
    /// Resource sandbox limits.
    pub sandbox: SandboxLimits,
}

impl SecurityConfig {
    /// Checks that every limit is usable (non-zero) and every scheme is a valid scheme.
    pub fn validate(&self) -> Result<(), SecurityError> {
        let limits = [
            self.uri.max_bytes,
            self.headers.max_name_bytes,
            self.headers.max_value_bytes,
            self.headers.max_count,
            self.headers.max_total_bytes,
            self.templates.max_bytes,
            self.templates.max_expressions,
            self.templates.max_variables,
            self.templates.max_name_bytes,
        ];
        if limits.contains(&0) || self.sandbox.max_resource_bytes == 0 {
            return Err(SecurityError::config(ConfigFault::ZeroLimit));
        }
        self.uri.validate()
    }
}

/// How strict URI validation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UriPolicy {
    /// Longest URI accepted, in bytes; longer input is refused before parsing. Default: 8192.
    pub max_bytes: usize,
    /// Accept non-ASCII characters (RFC 3987 IRIs such as `file:///docs/café.md`).
    /// When false, only RFC 3986 ASCII URIs are accepted. Default: true.
    pub allow_non_ascii: bool,
    /// Accept `.` and `..` path segments and remove them while canonicalising (RFC 3986
    /// section 5.2.4), refusing only those that climb above the top of the path. When
    /// false, any dot segment is refused: a client has no honest reason to send one. Default: false.
    pub allow_dot_segments: bool,
    /// Accept a userinfo part (`user:password@host`). Default: false.
    pub allow_userinfo: bool,
    /// Schemes accepted, compared case-insensitively; empty means any scheme. Default: empty.
    pub allowed_schemes: Vec<String>,
    /// Run the UTS #39 confusable checks on host names and path segments. Default: true.
    pub check_confusables: bool,
    /// The least restrictive UTS #39 restriction level a host name or path segment may
    /// have. Default: `highly_restrictive` (one script, or Latin with Han and Japanese kana,
    /// or Latin with Han and Hangul, or Latin with Han and Bopomofo).
    pub max_restriction_level: ScriptRestriction,
}

impl Default for UriPolicy {
    fn default() -> Self {
        UriPolicy {
            max_bytes: 8 * 1024,
            allow_non_ascii: true,
            allow_dot_segments: false,
            allow_userinfo: false,
            allowed_schemes: Vec::new(),
            check_confusables: true,
            max_restriction_level: ScriptRestriction::HighlyRestrictive,
        }
    }
}

impl UriPolicy {
    /// Checks the limit and the schemes.
    pub fn validate(&self) -> Result<(), SecurityError> {
        if self.max_bytes == 0 {
            return Err(SecurityError::config(ConfigFault::ZeroLimit));
        }
        for scheme in &self.allowed_schemes {
            let mut chars = scheme.chars();
            let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
            let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !first_ok || !rest_ok {
                return Err(SecurityError::config(ConfigFault::BadScheme));
            }
        }
        Ok(())
    }

    pub(crate) fn scheme_allowed(&self, scheme: &str) -> bool {
        self.allowed_schemes.is_empty()
            || self
                .allowed_schemes
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme))
    }
}

/// UTS #39 restriction levels, least permissive first
/// (<https://www.unicode.org/reports/tr39/#Restriction_Level_Detection>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScriptRestriction {
    /// ASCII only.
    AsciiOnly,
    /// Letters of a single script.
    SingleScript,
    /// One script, or Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo, or
    /// Latin + Han + Hangul.
    HighlyRestrictive,
    /// Also Latin + one other recommended script, except Cyrillic and Greek.
    ModeratelyRestrictive,
    /// Any mix of recommended scripts.
    MinimallyRestrictive,
    /// No restriction (the confusable and invisible-character checks still run).
    Unrestricted,
}

impl ScriptRestriction {
    pub(crate) fn to_uts39(self) -> unicode_security::RestrictionLevel {
        use unicode_security::RestrictionLevel as L;
        match self {
            ScriptRestriction::AsciiOnly => L::ASCIIOnly,
            ScriptRestriction::SingleScript => L::SingleScript,
            ScriptRestriction::HighlyRestrictive => L::HighlyRestrictive,
            ScriptRestriction::ModeratelyRestrictive => L::ModeratelyRestrictive,
            ScriptRestriction::MinimallyRestrictive => L::MinimallyRestrictive,
            ScriptRestriction::Unrestricted => L::Unrestricted,
        }
    }
}

/// Header limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderLimits {
    /// Longest header name, in bytes. Default: 256.
    pub max_name_bytes: usize,
    /// Longest header value, in bytes. Default: 8192.
    pub max_value_bytes: usize,
    /// Most headers in one message. Default: 100.
    pub max_count: usize,
    /// Most bytes of names and values together in one message. Default: 65536.
    pub max_total_bytes: usize,
}

impl Default for HeaderLimits {
    fn default() -> Self {
        HeaderLimits {
            max_name_bytes: 256,
            max_value_bytes: 8 * 1024,
            max_count: 100,
            max_total_bytes: 64 * 1024,
        }
    }
}

/// URI template limits. Expansions and matched URIs are also bound
/// by [`UriPolicy::max_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateLimits {
    /// Longest template, in bytes. Default: 1024.
    pub max_bytes: usize,
    /// Most expressions (`{…}`) in one template. Default: 32.
    pub max_expressions: usize,
    /// Most variables over all expressions of one template. Default: 64.
    pub max_variables: usize,
    /// Longest variable name, in bytes. Default: 128.
    pub max_name_bytes: usize,
}

impl Default for TemplateLimits {
    fn default() -> Self {
        TemplateLimits {
            max_bytes: 1024,
            max_expressions: 32,
            max_variables: 64,
            max_name_bytes: 128,
        }
    }
}

/// Sandbox limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// Largest resource [`crate::Sandbox::read_resource`] reads, in bytes. Default: 16 MiB.
    pub max_resource_bytes: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_resource_bytes: 16 * 1024 * 1024,
        }
    }
}
