//! Expansion, following the algorithm of RFC 6570 appendix A.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{SecurityError, Subject};

use super::{Expression, Modifier, Part, TemplateValue, Vars};

/// Everything but `unreserved` is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Everything but `unreserved` and `reserved` is encoded (`%` too: valid triplets are
/// copied before this set is applied).
const UNRESERVED_RESERVED: &AsciiSet = &UNRESERVED
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'#')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

fn is_triplet(s: &[u8]) -> bool {
    s.len() >= 3 && s[0] == b'%' && s[1].is_ascii_hexdigit() && s[2].is_ascii_hexdigit()
}

/// Appends `s` percent-encoded: only unreserved characters pass (`allow_reserved` false),
/// or unreserved, reserved and existing percent-encoded triplets (true).
pub(super) fn encode(out: &mut String, s: &str, allow_reserved: bool) {
    if !allow_reserved {
        out.extend(utf8_percent_encode(s, UNRESERVED));
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.extend(utf8_percent_encode(&rest[..i], UNRESERVED_RESERVED));
        if is_triplet(&rest.as_bytes()[i..]) {
            out.push_str(&rest[i..i + 3]);
            rest = &rest[i + 3..];
        } else {
            out.push_str("%25");
            rest = &rest[i + 1..];
        }
    }
    out.extend(utf8_percent_encode(rest, UNRESERVED_RESERVED));
}

/// The first `n` characters of `s`. With `+` and `#`, whose values keep their
/// percent-encoded triplets, a triplet counts as one character and is never split.
fn prefix(s: &str, n: u16, reserved: bool) -> &str {
    let mut taken = 0;
    let mut end = 0;
    let bytes = s.as_bytes();
    while taken < usize::from(n) && end < s.len() {
        if reserved && is_triplet(&bytes[end..]) {
            end += 3;
        } else {
            end += s[end..].chars().next().map_or(1, char::len_utf8);
        }
        taken += 1;
    }
    &s[..end]
}

struct Out {
    buf: String,
    max: usize,
}

impl Out {
    /// Fails once the output, plus `more` bytes still to come, passes the limit.
    fn check(&self, more: usize) -> Result<(), SecurityError> {
        let len = self.buf.len().saturating_add(more);
        if len > self.max {
            Err(SecurityError::TooLong {
                subject: Subject::Expansion,
                len,
                max: self.max,
            })
        } else {
            Ok(())
        }
    }
}

/// A lower bound of the expanded size of a value: encoding never shrinks text.
fn raw_len(value: &TemplateValue) -> usize {
    match value {
        TemplateValue::String(s) => s.len(),
        TemplateValue::List(l) => l.iter().map(String::len).fold(0, usize::saturating_add),
        TemplateValue::Assoc(a) => a
            .iter()
            .map(|(k, v)| k.len().saturating_add(v.len()))
            .fold(0, usize::saturating_add),
    }
}

pub(super) fn expand(parts: &[Part], vars: &Vars, max: usize) -> Result<String, SecurityError> {
    let mut out = Out {
        buf: String::new(),
        max,
    };
    for part in parts {
        match part {
            Part::Literal(l) => encode(&mut out.buf, l, true),
            Part::Expr(e) => expand_expression(&mut out, e, vars)?,
        }
        out.check(0)?;
    }
    Ok(out.buf)
}

fn expand_expression(out: &mut Out, e: &Expression, vars: &Vars) -> Result<(), SecurityError> {
    let op = e.op;
    let (named, reserved, sep, ifemp) = (op.named(), op.allow_reserved(), op.sep(), op.ifemp());
    let mut first = true;
    for spec in &e.vars {
        let Some(value) = vars.get(&spec.name) else {
            continue;
        };
        if value.is_undefined() {
            continue;
        }
        if matches!(spec.modifier, Modifier::Prefix(_))
            && !matches!(value, TemplateValue::String(_))
        {
            return Err(SecurityError::CompositePrefix);
        }
        if !matches!(spec.modifier, Modifier::Prefix(_)) {
            out.check(raw_len(value))?;
        }
        let buf = &mut out.buf;
        if first {
            buf.push_str(op.first());
            first = false;
        } else {
            buf.push(sep);
        }
        let explode = spec.modifier == Modifier::Explode;
        match value {
            TemplateValue::String(s) => {
                if named {
                    buf.push_str(&spec.name);
                    if s.is_empty() {
                        buf.push_str(ifemp);
                        continue;
                    }
                    buf.push('=');
                }
                let s = match spec.modifier {
                    Modifier::Prefix(n) => prefix(s, n, reserved),
                    _ => s,
                };
                encode(buf, s, reserved);
            }
            TemplateValue::List(items) if explode => {
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        buf.push(sep);
                    }
                    if named {
                        buf.push_str(&spec.name);
                        if item.is_empty() {
                            buf.push_str(ifemp);
                            continue;
                        }
                        buf.push('=');
                    }
                    encode(buf, item, reserved);
                }
            }
            TemplateValue::List(items) => {
                if named {
                    buf.push_str(&spec.name);
                    buf.push('=');
                }
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        buf.push(',');
                    }
                    encode(buf, item, reserved);
                }
            }
            TemplateValue::Assoc(pairs) if explode => {
                for (k, (key, val)) in pairs.iter().enumerate() {
                    if k > 0 {
                        buf.push(sep);
                    }
                    encode(buf, key, reserved);
                    if named && val.is_empty() {
                        buf.push_str(ifemp);
                    } else {
                        buf.push('=');
                        encode(buf, val, reserved);
                    }
                }
            }
            TemplateValue::Assoc(pairs) => {
                if named {
                    buf.push_str(&spec.name);
                    buf.push('=');
                }
                for (k, (key, val)) in pairs.iter().enumerate() {
                    if k > 0 {
                        buf.push(',');
                    }
                    encode(buf, key, reserved);
                    buf.push(',');
                    encode(buf, val, reserved);
                }
            }
        }
        out.check(0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix("value", 3, false), "val");
        assert_eq!(prefix("日本語", 2, false), "日本");
        assert_eq!(prefix("%41bc", 2, false), "%4");
        assert_eq!(prefix("%41bc", 2, true), "%41b");
        assert_eq!(prefix("a%", 2, true), "a%");
        assert_eq!(prefix("ab", 9, true), "ab");
    }
}
