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

use unicode_script::{Script, UnicodeScript};
use unicode_security::{GeneralSecurityProfile, RestrictionLevelDetection, skeleton};

use crate::chars::FactCache;
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
    event::report(check_segment(segment, level, &mut FactCache::default()))
}

/// Checks one percent-decoded path segment.
pub(crate) fn check_segment(
    segment: &str,
    level: ScriptRestriction,
    cache: &mut FactCache,
) -> Result<(), SecurityError> {
    if segment.is_ascii() {
        return Ok(());
    }
    check_name(segment, level, true, cache)
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
    check_name(label, level, false, &mut FactCache::default())
}

/// True if UTS #39 skeletons drop `c`: a default-ignorable code point, invisible.
pub(crate) fn is_invisible(c: char) -> bool {
    // Fast path: no letter or digit that UTS #39 allows in identifiers is default-ignorable
    // (checked over every code point by `fast_path_is_exact`), so only the others need a
    // skeleton.
    if c.is_ascii() || c.is_alphanumeric() && GeneralSecurityProfile::identifier_allowed(c) {
        return false;
    }
    let mut buf = [0u8; 4];
    skeleton(c.encode_utf8(&mut buf)).next().is_none()
}

fn check_invisible(name: &str) -> Result<(), Confusion> {
    if name.chars().any(is_invisible) {
        return Err(Confusion::Invisible);
    }
    Ok(())
}

/// The script of a letter set excludes Latin (Common and Inherited characters count as
/// every script, so they include it).
pub(crate) fn is_non_latin(c: char) -> bool {
    let ext = c.script_extension();
    !ext.is_common() && !ext.is_inherited() && !ext.contains_script(Script::Latin)
}

/// The UTS #39 restriction level of the letters and digits of `word` is within `level`.
fn within_level(word: &str, level: ScriptRestriction) -> bool {
    let letters: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
    letters.as_str().detect_restriction_level() <= level.to_uts39()
}

/// The checks of the [module documentation](self), in one pass over the characters.
///
/// Script mixing is judged word by word in path segments (`пример.txt` mixes Cyrillic and
/// Latin honestly; `pаypal.txt` mixes them inside one word) and label by label in host
/// names (`words` false). Only letters and digits count: punctuation, spaces and symbols
/// belong to no script and are not identifier characters. A word whose non-ASCII letters
/// are all Latin, Common or Inherited and allowed in identifiers is single-script, so the
/// restriction level is only computed for the others (this keeps long non-ASCII paths
/// cheap). An invisible character is reported before mixing, mixing before a lookalike.
fn check_name(
    name: &str,
    level: ScriptRestriction,
    words: bool,
    cache: &mut FactCache,
) -> Result<(), Confusion> {
    let latin_is_enough = level >= ScriptRestriction::SingleScript;
    let mut word_start = 0;
    let mut word_needs_level = false;
    let mut mixed = false;
    let mut non_latin_letter = false;
    let end_word = |word: &str, needs_level: bool, mixed: &mut bool| {
        if needs_level && !*mixed && !within_level(word, level) {
            *mixed = true;
        }
    };
    for (i, c) in name.char_indices() {
        if words && (c.is_whitespace() || c.is_ascii() && !c.is_ascii_alphanumeric()) {
            end_word(&name[word_start..i], word_needs_level, &mut mixed);
            word_start = i + c.len_utf8();
            word_needs_level = false;
        }
        if c.is_ascii() {
            continue;
        }
        let facts = cache.get(c);
        if facts.invisible {
            return Err(Confusion::Invisible);
        }
        if facts.alphanumeric {
            if facts.non_latin || !facts.allowed || !latin_is_enough {
                word_needs_level = true;
            }
            non_latin_letter |= facts.non_latin_letter;
        }
    }
    end_word(&name[word_start..], word_needs_level, &mut mixed);
    if mixed {
        return Err(Confusion::MixedScript);
    }
    // A whole-script lookalike: it skeletons to pure ASCII although it has letters from
    // a script other than Latin (`аррӏе.txt`). Latin-only lookalikes (`kapı`) pass.
    if non_latin_letter && skeleton(name).all(|c| c.is_ascii()) {
        return Err(Confusion::Lookalike);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVEL: ScriptRestriction = ScriptRestriction::HighlyRestrictive;

    /// The straightforward form of `check_name`: every check on its own, in order.
    fn check_name_reference(
        name: &str,
        level: ScriptRestriction,
        words: bool,
    ) -> Result<(), Confusion> {
        let mut buf = [0u8; 4];
        for c in name.chars().filter(|c| !c.is_ascii()) {
            if skeleton(c.encode_utf8(&mut buf)).next().is_none() {
                return Err(Confusion::Invisible);
            }
        }
        let is_break = |c: char| c.is_whitespace() || (c.is_ascii() && !c.is_ascii_alphanumeric());
        let pieces: Vec<&str> = if words {
            name.split(is_break).collect()
        } else {
            vec![name]
        };
        for word in pieces {
            if !word.is_ascii() && !within_level(word, level) {
                return Err(Confusion::MixedScript);
            }
        }
        if name
            .chars()
            .any(|c| c.is_alphabetic() && !c.is_ascii() && is_non_latin(c))
            && skeleton(name).all(|c| c.is_ascii())
        {
            return Err(Confusion::Lookalike);
        }
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 20_000, ..Default::default() })]
        #[test]
        fn one_pass_is_exact(
            name in "[a-zé \\-._\u{17f}\u{1d00}-\u{1d2b}а-яα-ω日本ア-ン가-힣0-9\u{301}\u{16a0}-\u{16f0}\u{200b}-\u{200f}\u{3164}\u{3000}\u{a0}ı・，]{0,8}",
            level in proptest::sample::select(vec![
                ScriptRestriction::AsciiOnly,
                ScriptRestriction::SingleScript,
                ScriptRestriction::HighlyRestrictive,
                ScriptRestriction::ModeratelyRestrictive,
                ScriptRestriction::Unrestricted,
            ]),
            words in proptest::bool::ANY,
        ) {
            proptest::prop_assert_eq!(
                check_name(&name, level, words, &mut FactCache::default()),
                check_name_reference(&name, level, words),
                "{:?} at {:?}", name, level
            );
        }
    }

    /// The fast path of `is_invisible` agrees with the skeleton on every code point.
    #[test]
    fn fast_path_is_exact() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let slow = !c.is_ascii() && skeleton(c.encode_utf8(&mut buf)).next().is_none();
            assert_eq!(is_invisible(c), slow, "U+{:04X}", c as u32);
        }
    }

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
            assert_eq!(
                check_segment(name, LEVEL, &mut FactCache::default()).ok(),
                Some(()),
                "{name}"
            );
        }
        for host in ["münchen.de", "例え.jp", "xn--mnchen-3ya.de", "пример.рф"] {
            assert_eq!(check_host(host, LEVEL).ok(), Some(()), "{host}");
        }
    }

    #[test]
    fn confusables_are_refused() {
        let seg = |s| {
            check_segment(s, LEVEL, &mut FactCache::default())
                .err()
                .map(|e| e.kind())
        };
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
