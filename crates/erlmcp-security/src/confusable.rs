//! Confusable and mixed-script detection for host names and path segments (UTS #39),
//! on top of the `unicode-security` tables. Nothing here keeps tables of its own.
//!
//! A name is refused when
//! - it contains an invisible character (a default-ignorable code point: zero-width
//!   space and joiners, bidirectional controls, soft hyphen, …): its UTS #39 skeleton
//!   drops the character, so two different names would look the same;
//! - its letters and digits are beyond the configured restriction level (by default
//!   *highly restrictive*: Latin with Cyrillic is refused, Latin with Han and kana is not);
//! - it is a whole-script lookalike of an ASCII name: no Latin letter, yet its skeleton
//!   is pure ASCII (`аррӏе` in Cyrillic skeletons to `apple`);
//! - (host names only) a character is not allowed in identifiers by the UTS #39 General
//!   Security Profile, or an `xn--` label is not valid Punycode.
//!
//! ASCII names are never confusable by these rules and skip all the work.

use unicode_script::Script;
use unicode_security::{
    GeneralSecurityProfile, RestrictionLevelDetection, mixed_script::AugmentedScriptSet, skeleton,
};

use crate::config::ScriptRestriction;
use crate::error::{Confusion, Place, SecurityError};
use crate::event;

/// Checks a host name (ASCII case is ignored; `xn--` labels are decoded) and records a
/// refusal as a security event. IP addresses need no check and should not be passed.
pub fn check_host_name(host: &str, level: ScriptRestriction) -> Result<(), SecurityError> {
    event::report(check_host(&host.to_ascii_lowercase(), level))
}

/// Checks one percent-decoded path segment and records a refusal as a security event.
pub fn check_path_segment(segment: &str, level: ScriptRestriction) -> Result<(), SecurityError> {
    event::report(check_segment(segment, level))
}

/// Checks one percent-decoded path segment.
pub(crate) fn check_segment(segment: &str, level: ScriptRestriction) -> Result<(), SecurityError> {
    if segment.is_ascii() {
        return Ok(());
    }
    check_name(segment, level, true)
        .map_err(|reason| SecurityError::confusable(Place::PathSegment, reason))
}

/// Checks a host name in canonical form (lowercase, percent-decoded). Labels are checked
/// one by one, `xn--` labels in their Unicode form.
pub(crate) fn check_host(host: &str, level: ScriptRestriction) -> Result<(), SecurityError> {
    let fail = |reason| SecurityError::confusable(Place::Host, reason);
    for label in host.split('.') {
        if let Some(encoded) = label.strip_prefix("xn--") {
            let decoded = idna::punycode::decode_to_string(encoded)
                .filter(|u| !u.is_ascii())
                .ok_or_else(|| fail(Confusion::BadPunycode))?;
            check_host_label(&decoded, level).map_err(fail)?;
        } else if !label.is_ascii() {
            check_host_label(label, level).map_err(fail)?;
        }
    }
    Ok(())
}

fn check_host_label(label: &str, level: ScriptRestriction) -> Result<(), Confusion> {
    check_invisible(label)?;
    if label
        .chars()
        .any(|c| !c.is_ascii() && !GeneralSecurityProfile::identifier_allowed(c))
    {
        return Err(Confusion::DisallowedChar);
    }
    check_name(label, level, false)
}

fn check_invisible(name: &str) -> Result<(), Confusion> {
    // The skeleton drops default-ignorable code points; a character whose skeleton is
    // empty is therefore invisible.
    let mut buf = [0u8; 4];
    for c in name.chars().filter(|c| !c.is_ascii()) {
        if skeleton(c.encode_utf8(&mut buf)).next().is_none() {
            return Err(Confusion::Invisible);
        }
    }
    Ok(())
}

/// The script of a letter set excludes Latin (Common and Inherited characters count as
/// every script, so they include it).
fn is_non_latin(c: char) -> bool {
    let mut buf = [0u8; 4];
    let set = AugmentedScriptSet::for_str(c.encode_utf8(&mut buf));
    !set.is_all() && !set.base.contains_script(Script::Latin)
}

/// Script mixing is judged word by word in path segments (`пример.txt` mixes Cyrillic
/// and Latin honestly; `pаypal.txt` mixes them inside one word) and label by label in
/// host names. Only letters and digits count: punctuation, spaces and symbols belong to
/// no script and are not identifier characters.
fn check_mixing(word: &str, level: ScriptRestriction) -> Result<(), Confusion> {
    if word.is_ascii() {
        return Ok(());
    }
    let letters: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
    if letters.as_str().detect_restriction_level() > level.to_uts39() {
        return Err(Confusion::MixedScript);
    }
    Ok(())
}

fn check_name(name: &str, level: ScriptRestriction, words: bool) -> Result<(), Confusion> {
    check_invisible(name)?;
    if words {
        let is_break = |c: char| c.is_whitespace() || (c.is_ascii() && !c.is_ascii_alphanumeric());
        for word in name.split(is_break) {
            check_mixing(word, level)?;
        }
    } else {
        check_mixing(name, level)?;
    }
    // A whole-script lookalike: it skeletons to pure ASCII although it has letters from
    // a script other than Latin (`аррӏе.txt`). Latin-only lookalikes (`kapı`) pass.
    if name
        .chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii() && is_non_latin(c))
        && skeleton(name).all(|c| c.is_ascii())
    {
        return Err(Confusion::Lookalike);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVEL: ScriptRestriction = ScriptRestriction::HighlyRestrictive;

    #[test]
    fn honest_names_pass() {
        for name in [
            "café.md",
            "résumé 2024.pdf",
            "報告書.txt",
            "レポート_report.md",
            "пример.txt",
            "Ελληνικά",
            "münchen",
            "kapı.txt",
            "ノート",
            "с днём рождения.txt",
            "Война и мир.epub",
        ] {
            assert_eq!(check_segment(name, LEVEL).ok(), Some(()), "{name}");
        }
        for host in ["münchen.de", "例え.jp", "xn--mnchen-3ya.de", "пример.рф"] {
            assert_eq!(check_host(host, LEVEL).ok(), Some(()), "{host}");
        }
    }

    #[test]
    fn confusables_are_refused() {
        let seg = |s| check_segment(s, LEVEL).err().map(|e| e.kind());
        assert_eq!(seg("pаypal.txt"), Some("confusable.mixed_script"));
        assert_eq!(seg("аррӏе"), Some("confusable.lookalike"));
        assert_eq!(seg("аррӏе.txt"), Some("confusable.lookalike"));
        assert_eq!(seg("ex\u{200b}ample"), Some("confusable.invisible"));
        assert_eq!(seg("abc\u{202e}txt.exe"), Some("confusable.invisible"));
        let host = |s| check_host(s, LEVEL).err().map(|e| e.kind());
        assert_eq!(host("аррӏе.com"), Some("confusable.lookalike"));
        assert_eq!(host("xn--80ak6aa92e.com"), Some("confusable.lookalike"));
        assert_eq!(host("xn--pple-43d.com"), Some("confusable.mixed_script"));
        assert_eq!(host("xn--abc-.com"), Some("confusable.bad_punycode"));
        assert_eq!(host("a\u{2665}b.com"), Some("confusable.disallowed_char"));
    }
}
