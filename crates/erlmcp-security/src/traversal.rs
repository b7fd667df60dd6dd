//! Path traversal in all its disguises, and [`RelativePath`], a relative path that
//! cannot leave the directory it is joined to.
//!
//! These checks are hand-written because no crate does them: a URI parser tells whether
//! a string is a URI, not whether `%252e%252e`, `%c0%ae` or `．．／` is someone trying
//! to reach `/etc/passwd` through a layer that decodes once more, or a file system that
//! normalises Unicode. The rules, applied to every path segment after one
//! percent-decoding:
//!
//! | found | refused as |
//! |---|---|
//! | NUL (raw or `%00`) | [`Disguise::NulByte`] |
//! | other control characters (`%0a`, `%1b`, C1) | [`Disguise::ControlChar`] |
//! | bytes that are not UTF-8; overlong forms like `%c0%ae` | [`Disguise::InvalidUtf8`], [`Disguise::OverlongUtf8`] |
//! | `\` or `%5c` | [`Disguise::Backslash`] |
//! | `%2f` | [`Disguise::EncodedSlash`] |
//! | `.`/`..`, or only dots and spaces (`...`, `.. `), also before `;` (`..;`) | [`Disguise::DotSegment`] |
//! | the same, percent-encoded (`%2e%2e`, `.%2E`) | [`Disguise::EncodedDotSegment`] |
//! | `%XX` still present after decoding (`%252e`) | [`Disguise::DoubleEncoding`] |
//! | a character that is, or NFKC-normalises to, `.` `/` `\` (`．` `／` `＼` `∕` `⁄` `‥` …) | [`Disguise::UnicodeSeparator`] |
//!
//! A [`RelativePath`] adds the rules for paths joined to a root: no leading `/` or `//`,
//! no drive letter (`C:`), no scheme (`file:`), no empty segment, no Windows special names
//! (`:` streams, `CON`/`NUL`/`COM1`…, trailing dot or space).

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use unicode_security::skeleton;

use crate::chars::FactCache;
use crate::config::UriPolicy;
use crate::confusable;
use crate::error::{Disguise, SecurityError};
use crate::event;

/// True for a non-ASCII character that is, or could be normalised into, a dot, a slash
/// or a backslash: its NFKC form contains one (fullwidth `．／＼`, `‥`, `﹒`), or it is
/// not a letter or digit and its UTS #39 skeleton is made only of them (`∕`, `⁄`, `╱`,
/// `⧸`). Letters whose skeleton is a slash (Katakana `ノ`) are words, not separators.
pub(crate) fn is_lookalike_separator(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    let is_sep = |x: char| matches!(x, '.' | '/' | '\\');
    let mut buf = [0u8; 4];
    let s: &str = c.encode_utf8(&mut buf);
    // A character that is its own NFKC form (the quick check says so without computing
    // it) cannot normalise into an ASCII separator.
    let nfkc_stable = is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes;
    if !nfkc_stable && s.nfkc().any(is_sep) {
        return true;
    }
    if c.is_alphanumeric() {
        return false;
    }
    let mut sk = skeleton(s).peekable();
    sk.peek().is_some() && sk.all(is_sep)
}

/// Checks text that has been percent-decoded once, wherever it comes from (a path
/// segment, a template value): no NUL, controls, backslash, leftover percent-encoding or
/// lookalike separators.
pub(crate) fn check_decoded_text(s: &str, cache: &mut FactCache) -> Result<(), Disguise> {
    let bytes = s.as_bytes();
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            match b {
                0 => return Err(Disguise::NulByte),
                b'\\' => return Err(Disguise::Backslash),
                b'%' if hex(i + 1) && hex(i + 2) => return Err(Disguise::DoubleEncoding),
                0x01..=0x1f | 0x7f => return Err(Disguise::ControlChar),
                _ => {}
            }
            i += 1;
            continue;
        }
        let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        if c.is_control() {
            return Err(Disguise::ControlChar);
        }
        if cache.get(c).lookalike_separator {
            return Err(Disguise::UnicodeSeparator);
        }
        i += c.len_utf8();
    }
    Ok(())
}

/// A segment made only of dots and spaces, with at least one dot: `.`, `..`, and the
/// Windows spellings of them (`...`, `.. `, `. .`); also when followed by `;parameters`
/// (`..;/`), which servers that strip path parameters read as `..`.
pub(crate) fn is_dot_like(segment: &str) -> bool {
    if !matches!(segment.as_bytes().first(), Some(b'.' | b' ')) {
        return false;
    }
    let head = segment.split(';').next().unwrap_or(segment);
    head.contains('.') && head.bytes().all(|b| b == b'.' || b == b' ')
}

/// Percent-decodes bytes into UTF-8, telling overlong encodings apart from other
/// invalid UTF-8.
pub(crate) fn decode_utf8(raw: &str) -> Result<Cow<'_, str>, Disguise> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    if bytes.contains(&0) {
        // Reported before UTF-8 validity: `%00` is the more telling disguise.
        return Err(Disguise::NulByte);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Owned(s)),
        Err(e) => Err(if has_overlong(e.as_bytes()) {
            Disguise::OverlongUtf8
        } else {
            Disguise::InvalidUtf8
        }),
    }
}

/// Overlong UTF-8: a 2-byte form of an ASCII byte (`C0`/`C1` lead), or a 3- or 4-byte
/// form of a shorter character (`E0 80..9F`, `F0 80..8F`).
fn has_overlong(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| {
        matches!(w[0], 0xC0 | 0xC1) && (w[1] & 0xC0) == 0x80
            || w[0] == 0xE0 && (0x80..=0x9F).contains(&w[1])
            || w[0] == 0xF0 && (0x80..=0x8F).contains(&w[1])
    }) || bytes.last().is_some_and(|b| matches!(b, 0xC0 | 0xC1))
}

/// Checks one percent-encoded URI path segment and returns it decoded.
pub(crate) fn check_encoded_segment<'a>(
    raw: &'a str,
    policy: &UriPolicy,
    cache: &mut FactCache,
) -> Result<Cow<'a, str>, SecurityError> {
    let t = SecurityError::traversal;
    let decoded = decode_utf8(raw).map_err(t)?;
    let encoded = matches!(decoded, Cow::Owned(_));
    if encoded && decoded.contains('/') {
        return Err(t(Disguise::EncodedSlash));
    }
    if is_dot_like(&decoded) {
        let plain_dots = raw == "." || raw == "..";
        if !plain_dots {
            return Err(t(if encoded {
                Disguise::EncodedDotSegment
            } else {
                Disguise::DotSegment
            }));
        }
        if !policy.allow_dot_segments {
            return Err(t(Disguise::DotSegment));
        }
    }
    check_decoded_text(&decoded, cache).map_err(t)?;
    if policy.check_confusables {
        confusable::check_segment(&decoded, policy.max_restriction_level, cache)?;
    }
    Ok(decoded)
}

const DEVICE_NAMES: &[&str] = &["con", "prn", "aux", "nul", "conin$", "conout$", "clock$"];

/// `CON`, `NUL.txt`, `com1`, `LPT9.log`, `COM¹` …: names Windows maps to devices
/// whatever the directory and the extension.
fn is_windows_device(segment: &str) -> bool {
    let stem = segment
        .split('.')
        .next()
        .unwrap_or(segment)
        .trim_end_matches(' ')
        .to_ascii_lowercase();
    if DEVICE_NAMES.contains(&stem.as_str()) {
        return true;
    }
    let Some((prefix, rest)) = stem.split_at_checked(3) else {
        return false;
    };
    (prefix == "com" || prefix == "lpt")
        && rest.chars().count() == 1
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '¹' | '²' | '³'))
}

fn check_relative_segment(
    segment: &str,
    policy: &UriPolicy,
    cache: &mut FactCache,
) -> Result<(), SecurityError> {
    let t = SecurityError::traversal;
    if segment.is_empty() {
        return Err(t(Disguise::EmptySegment));
    }
    if is_dot_like(segment) {
        return Err(t(Disguise::DotSegment));
    }
    check_decoded_text(segment, cache).map_err(t)?;
    if segment.contains(':')
        || segment.ends_with('.')
        || segment.ends_with(' ')
        || is_windows_device(segment)
    {
        return Err(t(Disguise::WindowsSpecial));
    }
    if policy.check_confusables {
        confusable::check_segment(segment, policy.max_restriction_level, cache)?;
    }
    Ok(())
}

/// Checks the start of a relative path for absolute-path smuggling: `/x`, `//host/x`,
/// `C:` / `c|`, and `scheme:`.
fn check_relative_start(path: &str) -> Result<(), Disguise> {
    let bytes = path.as_bytes();
    match bytes {
        [] => Err(Disguise::EmptySegment),
        [b'/', ..] => Err(Disguise::AbsolutePath),
        [b'\\', ..] => Err(Disguise::Backslash),
        [d, b':' | b'|', ..] if d.is_ascii_alphabetic() => Err(Disguise::DriveLetter),
        _ => {
            let first = path.split('/').next().unwrap_or(path);
            if let Some((scheme, _)) = first.split_once(':') {
                let mut chars = scheme.chars();
                let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
                if is_scheme {
                    return Err(Disguise::AbsolutePath);
                }
            }
            Ok(())
        }
    }
}

/// A relative path, already percent-decoded, that stays inside whatever directory it is
/// joined to: no absolute or network path, no drive letter or scheme, no empty, dot,
/// or Windows-special segment, none of the disguises in the [module
/// documentation](self), and no confusable segment. Segments are separated by `/`.
///
/// ```
/// use erlmcp_security::RelativePath;
///
/// let path = RelativePath::parse("docs/guide/intro.md")?;
/// assert_eq!(path.segments().collect::<Vec<_>>(), ["docs", "guide", "intro.md"]);
///
/// for evil in ["../etc/passwd", "/etc/passwd", "docs/../../x", "C:\\Windows", "a/%2e%2e/b"] {
///     assert!(RelativePath::parse(evil).is_err(), "{evil}");
/// }
/// # Ok::<(), erlmcp_security::SecurityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelativePath {
    path: String,
}

impl RelativePath {
    /// Checks a decoded relative path with the default [`UriPolicy`].
    pub fn parse(path: &str) -> Result<Self, SecurityError> {
        Self::parse_with(path, &UriPolicy::default())
    }

    /// Checks a decoded relative path; `policy` decides the length limit and the
    /// confusable checks.
    pub fn parse_with(path: &str, policy: &UriPolicy) -> Result<Self, SecurityError> {
        event::report(Self::check(path, policy))
    }

    pub(crate) fn check(path: &str, policy: &UriPolicy) -> Result<Self, SecurityError> {
        if path.len() > policy.max_bytes {
            return Err(SecurityError::TooLong {
                subject: crate::Subject::Uri,
                len: path.len(),
                max: policy.max_bytes,
            });
        }
        check_relative_start(path).map_err(SecurityError::traversal)?;
        let mut cache = FactCache::default();
        for segment in path.split('/') {
            check_relative_segment(segment, policy, &mut cache)?;
        }
        Ok(RelativePath {
            path: path.to_owned(),
        })
    }

    /// The path, segments joined by `/`.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// The segments, in order; none is empty.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.split('/')
    }

    /// The path as a relative [`PathBuf`] for this platform.
    pub fn to_path_buf(&self) -> PathBuf {
        self.segments().collect()
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

impl AsRef<str> for RelativePath {
    fn as_ref(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalike_separators() {
        for c in [
            '．', '／', '＼', '∕', '⁄', '‥', '…', '﹒', '﹨', '╱', '⧸', '․',
        ] {
            assert!(is_lookalike_separator(c), "{c:?} U+{:04X}", c as u32);
        }
        for c in ['ノ', '丿', 'é', '日', '。', '½', '·', '٠'] {
            assert!(!is_lookalike_separator(c), "{c:?} U+{:04X}", c as u32);
        }
    }

    /// The NFKC quick-check shortcut changes no answer, over every code point.
    #[test]
    fn lookalike_shortcut_is_exact() {
        for c in (0x80..=0x10FFFF_u32).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let s: &str = c.encode_utf8(&mut buf);
            let by_nfkc = s.nfkc().any(|x| matches!(x, '.' | '/' | '\\'));
            if by_nfkc {
                assert!(is_lookalike_separator(c), "U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn overlong_detection() {
        assert_eq!(decode_utf8("%c0%ae").err(), Some(Disguise::OverlongUtf8));
        assert_eq!(decode_utf8("%e0%80%ae").err(), Some(Disguise::OverlongUtf8));
        assert_eq!(
            decode_utf8("%f0%80%80%ae").err(),
            Some(Disguise::OverlongUtf8)
        );
        assert_eq!(decode_utf8("%c0").err(), Some(Disguise::OverlongUtf8));
        assert_eq!(decode_utf8("%ff").err(), Some(Disguise::InvalidUtf8));
        assert_eq!(decode_utf8("%ed%a0%80").err(), Some(Disguise::InvalidUtf8));
        assert_eq!(decode_utf8("caf%C3%A9").ok().as_deref(), Some("café"));
    }

    #[test]
    fn devices() {
        for name in [
            "CON", "nul.txt", "com1", "LPT9.log", "aux ", "COM¹", "conin$",
        ] {
            assert!(is_windows_device(name), "{name}");
        }
        for name in [
            "console",
            "com10",
            "null",
            "auxiliary.md",
            "lpt",
            " 日本",
            "日本語",
            "co日",
        ] {
            assert!(!is_windows_device(name), "{name}");
        }
    }
}
