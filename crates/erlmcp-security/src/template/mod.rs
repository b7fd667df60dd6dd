//! RFC 6570 URI templates, levels 1 to 4: parsing, expansion, and matching a concrete URI
//! back to its variables (what `resources/read` on a resource template needs).
//!
//! - [`parse`](UriTemplate::parse) checks the whole grammar and the
//!   [`TemplateLimits`](crate::TemplateLimits) (length, number of expressions and variables, name length).
//!   Expressions do not nest: a `{` inside an expression is an error.
//! - [`expand`](UriTemplate::expand) follows RFC 6570 appendix A and is tested against
//!   the `iri-string` implementation; it percent-encodes UTF-8 and stops with an error as
//!   soon as the result passes [`UriPolicy::max_bytes`].
//! - [`match_uri`](UriTemplate::match_uri) validates the URI as [`CanonicalUri`] does,
//!   matches its canonical form against the template with a linear-time regex (no
//!   backtracking blow-up), splits each expression back into variables, percent-decodes
//!   them and puts every value through the traversal checks: a value with a `..` piece,
//!   an encoded leading `/`, NUL, a backslash, a leftover `%XX`, a lookalike separator or
//!   a drive letter is refused, not returned. (An encoded `/` inside a value is allowed,
//!   as in a path passed as a query parameter; the URI checks already refuse `%2F` in
//!   path segments.)
//!
//! Matching inverts expansion where the template allows it. Where it is ambiguous the
//! first expression takes as much as it can; in an expression without names (`{x,y}`,
//! `{/a,b}`) values are assigned in order and the last variable takes the rest; in a
//! named expression (`{?q,page}`) values are assigned by name, and names the template does
//! not list go to its exploded variable (`{?params*}`) or make the match fail. A prefix
//! variable (`{id:3}`) matches at most that many characters. Template literals should be
//! written in canonical form (lowercase scheme and host), since the URI is matched in its
//! canonical form.
//!
//! ```
//! use erlmcp_security::{TemplateValue, UriTemplate, Vars};
//!
//! let template = UriTemplate::parse("file:///projects/{project}/{+path}")?;
//!
//! let mut vars = Vars::new();
//! vars.insert("project".into(), "erlmcp".into());
//! vars.insert("path".into(), "src/lib.rs".into());
//! assert_eq!(template.expand(&vars)?, "file:///projects/erlmcp/src/lib.rs");
//!
//! let matched = template.match_uri("file:///projects/erlmcp/docs/intro.md")?.unwrap();
//! assert_eq!(matched["path"], TemplateValue::from("docs/intro.md"));
//!
//! // A traversal hidden in a value is refused, not matched.
//! let refused = template.match_uri("file:///projects/erlmcp/docs/%2e%2e/%2e%2e/etc/passwd");
//! assert!(refused.is_err());
//! # Ok::<(), erlmcp_security::SecurityError>(())
//! ```

mod expand;
mod matcher;
mod parse;

use std::collections::BTreeMap;
use std::fmt;

use crate::config::{SecurityConfig, UriPolicy};
use crate::error::SecurityError;
use crate::event;
use crate::uri::CanonicalUri;

/// The variables of a template: given to [`UriTemplate::expand`], returned by
/// [`UriTemplate::match_uri`].
pub type Vars = BTreeMap<String, TemplateValue>;

/// The value of one template variable (RFC 6570 section 2.3): a string, a list, or an
/// associative array (kept in order, since expansion follows it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TemplateValue {
    /// A string.
    String(String),
    /// A list of strings; empty means undefined.
    List(Vec<String>),
    /// Name-value pairs in order; empty means undefined.
    Assoc(Vec<(String, String)>),
}

impl TemplateValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TemplateValue::String(s) => Some(s),
            _ => None,
        }
    }

    fn is_undefined(&self) -> bool {
        match self {
            TemplateValue::String(_) => false,
            TemplateValue::List(l) => l.is_empty(),
            TemplateValue::Assoc(a) => a.is_empty(),
        }
    }
}

impl From<&str> for TemplateValue {
    fn from(s: &str) -> Self {
        TemplateValue::String(s.to_owned())
    }
}

impl From<String> for TemplateValue {
    fn from(s: String) -> Self {
        TemplateValue::String(s)
    }
}

impl From<Vec<String>> for TemplateValue {
    fn from(l: Vec<String>) -> Self {
        TemplateValue::List(l)
    }
}

impl From<Vec<(String, String)>> for TemplateValue {
    fn from(a: Vec<(String, String)>) -> Self {
        TemplateValue::Assoc(a)
    }
}

/// An expression operator (RFC 6570 section 3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Simple,
    Reserved,
    Fragment,
    Label,
    Path,
    PathParam,
    Query,
    QueryCont,
}

impl Operator {
    fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '+' => Operator::Reserved,
            '#' => Operator::Fragment,
            '.' => Operator::Label,
            '/' => Operator::Path,
            ';' => Operator::PathParam,
            '?' => Operator::Query,
            '&' => Operator::QueryCont,
            _ => return None,
        })
    }

    /// The table of RFC 6570 appendix A: first, sep, named, ifemp, allow reserved.
    fn first(self) -> &'static str {
        match self {
            Operator::Simple | Operator::Reserved => "",
            Operator::Fragment => "#",
            Operator::Label => ".",
            Operator::Path => "/",
            Operator::PathParam => ";",
            Operator::Query => "?",
            Operator::QueryCont => "&",
        }
    }

    fn sep(self) -> char {
        match self {
            Operator::Simple | Operator::Reserved | Operator::Fragment => ',',
            Operator::Label => '.',
            Operator::Path => '/',
            Operator::PathParam => ';',
            Operator::Query | Operator::QueryCont => '&',
        }
    }

    fn named(self) -> bool {
        matches!(
            self,
            Operator::PathParam | Operator::Query | Operator::QueryCont
        )
    }

    fn ifemp(self) -> &'static str {
        match self {
            Operator::Query | Operator::QueryCont => "=",
            _ => "",
        }
    }

    fn allow_reserved(self) -> bool {
        matches!(self, Operator::Reserved | Operator::Fragment)
    }
}

/// A variable modifier (RFC 6570 section 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modifier {
    None,
    /// `:n`, 1..=9999 characters.
    Prefix(u16),
    /// `*`.
    Explode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarSpec {
    /// As written (percent-encoded characters stay encoded, as RFC 6570 compares them).
    pub(crate) name: String,
    pub(crate) modifier: Modifier,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expression {
    pub(crate) op: Operator,
    pub(crate) vars: Vec<VarSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Literal(String),
    Expr(Expression),
}

/// A parsed RFC 6570 URI template. See the [module documentation](self).
#[derive(Clone)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
    policy: UriPolicy,
    matcher: regex::bytes::Regex,
}

impl UriTemplate {
    /// Parses `template` with the default [`SecurityConfig`].
    pub fn parse(template: &str) -> Result<Self, SecurityError> {
        Self::parse_with(template, &SecurityConfig::default())
    }

    /// Parses `template` under `config.templates` limits; expansion and matching will use
    /// `config.uri`. A malformed template is the caller's mistake ([`crate::Fault::Misuse`]);
    /// a template past the limits is recorded as a security event, since templates
    /// sometimes come from configuration files or peers.
    pub fn parse_with(template: &str, config: &SecurityConfig) -> Result<Self, SecurityError> {
        let parts = event::report(parse::parse(template, &config.templates))?;
        let matcher = matcher::compile(&parts)
            .map_err(|_| event::refused(SecurityError::TemplateTooComplex))?;
        Ok(UriTemplate {
            source: template.to_owned(),
            parts,
            policy: config.uri.clone(),
            matcher,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in order of first appearance, each once.
    pub fn variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for part in &self.parts {
            if let Part::Expr(e) = part {
                for v in &e.vars {
                    if !names.contains(&v.name.as_str()) {
                        names.push(&v.name);
                    }
                }
            }
        }
        names
    }

    /// Expands the template (RFC 6570 section 3). Variables missing from `vars` are
    /// undefined and skipped, as the RFC says. Fails if the result would pass
    /// [`UriPolicy::max_bytes`], or if a prefix modifier meets a list or an associative
    /// array.
    pub fn expand(&self, vars: &Vars) -> Result<String, SecurityError> {
        expand::expand(&self.parts, vars, self.policy.max_bytes)
    }

    /// Validates `uri` (as [`CanonicalUri::parse_with`] would, with the template's
    /// [`UriPolicy`]) and matches it. `Ok(None)`: a valid URI that this template does not
    /// describe. `Err`: the URI, or a value matched from it, was refused (and recorded).
    ///
    /// To try several templates, parse the URI once and call
    /// [`UriTemplate::match_canonical`] on each.
    pub fn match_uri(&self, uri: &str) -> Result<Option<Vars>, SecurityError> {
        let canonical = CanonicalUri::parse_with(uri, &self.policy)?;
        self.match_canonical(&canonical)
    }

    /// Matches an already validated URI. `Err` means a matched value was refused (and
    /// recorded).
    pub fn match_canonical(&self, uri: &CanonicalUri) -> Result<Option<Vars>, SecurityError> {
        event::report(matcher::match_with(
            &self.matcher,
            &self.parts,
            uri.as_str(),
        ))
    }
}

impl fmt::Debug for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UriTemplate").field(&self.source).finish()
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for UriTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.policy == other.policy
    }
}

impl Eq for UriTemplate {}
