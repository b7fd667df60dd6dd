//! The Unicode facts the checks need about one character, computed once and kept in a
//! small cache for the length of one validation.
//!
//! Each fact is a table lookup (identifier status, script extensions, NFKC quick check,
//! alphabetic), and a long non-ASCII path asks about the same few characters again and
//! again; the cache makes the repeats free. It is direct-mapped and lives on the stack of
//! one validation, so it needs no locking and cannot grow.

use unicode_security::GeneralSecurityProfile;

use crate::confusable::{is_invisible, is_non_latin};
use crate::traversal::is_lookalike_separator;

/// What the checks need to know about one non-ASCII character.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Is, or normalises to, a dot, slash or backslash (see [`is_lookalike_separator`]).
    pub(crate) lookalike_separator: bool,
    /// A letter or digit.
    pub(crate) alphanumeric: bool,
    /// A letter or digit allowed in identifiers by UTS #39.
    pub(crate) allowed: bool,
    /// Dropped by UTS #39 skeletons: invisible.
    pub(crate) invisible: bool,
    /// A letter or digit of a script other than Latin, Common and Inherited.
    pub(crate) non_latin: bool,
    /// A letter (not a digit) of such a script.
    pub(crate) non_latin_letter: bool,
}

impl Facts {
    pub(crate) fn of(c: char) -> Facts {
        let alphanumeric = c.is_alphanumeric();
        let allowed = alphanumeric && GeneralSecurityProfile::identifier_allowed(c);
        let non_latin = alphanumeric && is_non_latin(c);
        Facts {
            lookalike_separator: is_lookalike_separator(c),
            alphanumeric,
            allowed,
            invisible: !allowed && is_invisible(c),
            non_latin,
            non_latin_letter: non_latin && c.is_alphabetic(),
        }
    }
}

const SLOTS: usize = 64;

/// A direct-mapped cache of [`Facts`] for non-ASCII characters.
pub(crate) struct FactCache {
    /// `'\0'` marks an empty slot: only non-ASCII characters are ever looked up.
    slots: [(char, Facts); SLOTS],
}

impl Default for FactCache {
    fn default() -> Self {
        FactCache {
            slots: [('\0', Facts::default()); SLOTS],
        }
    }
}

impl FactCache {
    pub(crate) fn get(&mut self, c: char) -> Facts {
        let slot = &mut self.slots[c as usize % SLOTS];
        if slot.0 != c {
            *slot = (c, Facts::of(c));
        }
        slot.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_returns_what_it_computes() {
        let mut cache = FactCache::default();
        for c in ['é', 'а', '．', '\u{200b}', 'é', '日', 'а', '\u{3164}', 'é'] {
            assert_eq!(cache.get(c), Facts::of(c), "{c:?}");
        }
        // Two characters in the same slot evict each other and stay right.
        let (a, b) = (
            '\u{100}',
            char::from_u32(0x100 + SLOTS as u32).unwrap_or('é'),
        );
        assert_eq!(cache.get(a), Facts::of(a));
        assert_eq!(cache.get(b), Facts::of(b));
        assert_eq!(cache.get(a), Facts::of(a));
    }
}
