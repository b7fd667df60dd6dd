//! Matching a canonical URI against a template.
//!
//! The template becomes one anchored regex with a capture group per expression; the
//! `regex` crate runs it in time linear in the URI, whatever the template. The regex works
//! on bytes without Unicode tables (any non-ASCII byte is a value byte), which keeps its
//! compilation cheap; a capture that would split a character simply does not match. Each
//! captured expression is then split back into variables (see the rules in the
//! [module documentation](super)), percent-decoded and checked.

use std::fmt::Write as _;

use regex::bytes::{Regex, RegexBuilder};

use crate::chars::FactCache;
use crate::error::{Disguise, SecurityError};
use crate::traversal::{check_decoded_text, decode_utf8, is_dot_like};

use super::{Expression, Modifier, Operator, Part, TemplateValue, Vars};

/// What a value character may be: `unreserved`, a percent-encoded octet, or (in IRIs) a
/// byte of a non-ASCII character; with `+` and `#`, also `reserved`.
const UNRESERVED_CLASS: &str = r"A-Za-z0-9\-._~";
const RESERVED_CLASS: &str = r":/?#\[\]@!$&'()*+,;=";

fn push_literal(re: &mut String, literal: &str) {
    let bytes = literal.as_bytes();
    let mut i = 0;
    while i < literal.len() {
        if bytes[i] == b'%' && i + 3 <= literal.len() {
            let hex = &literal[i + 1..i + 3];
            match u8::from_str_radix(hex, 16) {
                // An encoded unreserved character appears decoded in canonical form.
                Ok(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                    let _ = write!(
                        re,
                        "(?:%(?i:{hex})|{})",
                        regex::escape(&(b as char).to_string())
                    );
                }
                _ => {
                    let _ = write!(re, "%(?i:{hex})");
                }
            }
            i += 3;
            continue;
        }
        let Some(c) = literal[i..].chars().next() else {
            break;
        };
        if c.is_ascii() {
            re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
        } else {
            // Expansion percent-encodes a non-ASCII literal; canonical IRIs decode it. The
            // regex has no Unicode mode, so the raw character is spelled as its bytes.
            re.push_str("(?:");
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(re, r"\x{b:02X}");
            }
            re.push('|');
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(re, "%(?i:{b:02X})");
            }
            re.push(')');
        }
        i += c.len_utf8();
    }
}

fn push_expression(re: &mut String, e: &Expression) {
    let mut class = String::from(UNRESERVED_CLASS);
    if e.op.allow_reserved() {
        class.push_str(RESERVED_CLASS);
    } else {
        class.push_str(&regex::escape(&e.op.sep().to_string()));
        class.push(',');
        if e.op.named() || e.vars.iter().any(|v| v.modifier == Modifier::Explode) {
            class.push('=');
        }
    }
    // The URI was validated first, so every `%` starts a triplet: the class can simply
    // allow `%` (a triplet split between two captures is caught when decoding).
    class.push_str(r"%\x80-\xFF");
    let content = format!("[{class}]*");
    re.push('(');
    match e.op.first() {
        "" => re.push_str(&content),
        first => {
            let _ = write!(re, "(?:{}{content})?", regex::escape(first));
        }
    }
    re.push(')');
}

pub(super) fn compile(parts: &[Part]) -> Result<Regex, regex::Error> {
    let mut re = String::from(r"\A");
    for part in parts {
        match part {
            Part::Literal(l) => push_literal(&mut re, l),
            Part::Expr(e) => push_expression(&mut re, e),
        }
    }
    re.push_str(r"\z");
    RegexBuilder::new(&re)
        .unicode(false)
        .size_limit(4 << 20)
        .build()
}

/// Why a match attempt ended without variables.
enum Miss {
    /// The URI does not fit the template.
    NoMatch,
    /// A value was refused.
    Refused(SecurityError),
}

impl From<Disguise> for Miss {
    fn from(d: Disguise) -> Self {
        Miss::Refused(SecurityError::traversal(d))
    }
}

pub(super) fn match_with(
    regex: &Regex,
    parts: &[Part],
    uri: &str,
) -> Result<Option<Vars>, SecurityError> {
    let Some(caps) = regex.captures(uri.as_bytes()) else {
        return Ok(None);
    };
    let mut vars = Vars::new();
    let mut group = 0;
    let mut after_slash = false;
    for part in parts {
        match part {
            Part::Literal(l) => after_slash = l.ends_with('/'),
            Part::Expr(e) => {
                group += 1;
                let bytes = caps.get(group).map_or(&[][..], |m| m.as_bytes());
                let Ok(text) = std::str::from_utf8(bytes) else {
                    return Ok(None);
                };
                match decode_expression(e, text, after_slash, &mut vars) {
                    Ok(()) => {}
                    Err(Miss::NoMatch) => return Ok(None),
                    Err(Miss::Refused(err)) => return Err(err),
                }
                after_slash = text.ends_with('/') || (text.is_empty() && after_slash);
            }
        }
    }
    Ok(Some(vars))
}

/// Percent-decodes and checks one matched value.
fn value(raw: &str, op: Operator, after_slash: bool) -> Result<String, Miss> {
    let b = raw.as_bytes();
    let split_triplet = b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if split_triplet {
        return Err(Miss::NoMatch);
    }
    let decoded = decode_utf8(raw)?;
    check_decoded_text(&decoded, &mut FactCache::default())?;
    let bytes = decoded.as_bytes();
    if let [d, b':' | b'|', rest @ ..] = bytes
        && d.is_ascii_alphabetic()
        && matches!(rest.first(), None | Some(b'/' | b'\\'))
    {
        return Err(Disguise::DriveLetter.into());
    }
    // A value may hold `/`: raw in `+` and `#` expressions, encoded (`%2F`) elsewhere, as
    // in a path passed as a query parameter. Either way no piece may be a dot segment,
    // and it may not start with `/` where that would make an absolute path: always when
    // it was encoded, after a literal `/` when raw.
    if decoded.split('/').any(is_dot_like) {
        return Err(if raw == decoded {
            Disguise::DotSegment
        } else {
            Disguise::EncodedDotSegment
        }
        .into());
    }
    if decoded.starts_with('/') && (after_slash || !op.allow_reserved()) {
        return Err(Disguise::AbsolutePath.into());
    }
    Ok(decoded.into_owned())
}

fn insert(vars: &mut Vars, name: &str, v: TemplateValue) -> Result<(), Miss> {
    match vars.get(name) {
        // The same variable in two places must have matched the same value.
        Some(existing) if *existing != v => Err(Miss::NoMatch),
        Some(_) => Ok(()),
        None => {
            vars.insert(name.to_owned(), v);
            Ok(())
        }
    }
}

fn fits_prefix(modifier: Modifier, s: &str) -> bool {
    match modifier {
        Modifier::Prefix(n) => s.chars().count() <= usize::from(n),
        _ => true,
    }
}

fn decode_expression(
    e: &Expression,
    text: &str,
    after_slash: bool,
    vars: &mut Vars,
) -> Result<(), Miss> {
    if text.is_empty() {
        return Ok(());
    }
    let op = e.op;
    let body = text.strip_prefix(op.first()).ok_or(Miss::NoMatch)?;
    let after_slash = if op.first().is_empty() {
        after_slash
    } else {
        op.first() == "/"
    };
    if op.named() {
        decode_named(e, body, vars)
    } else {
        decode_positional(e, body, after_slash, vars)
    }
}

fn decode_positional(
    e: &Expression,
    body: &str,
    after_slash: bool,
    vars: &mut Vars,
) -> Result<(), Miss> {
    let op = e.op;
    let sep = op.sep();
    let mut rest = body;
    let last = e.vars.len().saturating_sub(1);
    for (k, spec) in e.vars.iter().enumerate() {
        if rest.is_empty() && k > 0 {
            break;
        }
        let (item, remaining) = if k == last {
            (rest, "")
        } else {
            rest.split_once(sep).unwrap_or((rest, ""))
        };
        rest = remaining;
        let explode = spec.modifier == Modifier::Explode;
        let v = if explode {
            let items: Vec<&str> = item.split(sep).collect();
            let assoc = !op.allow_reserved() && items.iter().all(|i| i.contains('='));
            if assoc {
                let pairs = items
                    .iter()
                    .map(|i| {
                        let (k, v) = i.split_once('=').unwrap_or((i, ""));
                        Ok((value(k, op, false)?, value(v, op, false)?))
                    })
                    .collect::<Result<_, Miss>>()?;
                TemplateValue::Assoc(pairs)
            } else {
                let list = items
                    .iter()
                    .map(|i| value(i, op, after_slash && k == 0))
                    .collect::<Result<_, Miss>>()?;
                TemplateValue::List(list)
            }
        } else {
            // A single string. The last variable takes the rest, separators included, so
            // `{.ext}` matches `.tar.gz`; but a `/` is never part of a `{/var}` value.
            if op == Operator::Path && item.contains('/') {
                return Err(Miss::NoMatch);
            }
            let s = value(item, op, after_slash && k == 0)?;
            if !fits_prefix(spec.modifier, &s) {
                return Err(Miss::NoMatch);
            }
            TemplateValue::String(s)
        };
        insert(vars, &spec.name, v)?;
    }
    Ok(())
}

fn decode_named(e: &Expression, body: &str, vars: &mut Vars) -> Result<(), Miss> {
    let op = e.op;
    let explode_var = e.vars.iter().find(|v| v.modifier == Modifier::Explode);
    let mut local: Vec<(&str, TemplateValue)> = Vec::new();
    for item in body.split(op.sep()) {
        let (raw_name, raw_value) = item.split_once('=').unwrap_or((item, ""));
        let name = value(raw_name, op, false)?;
        let val = value(raw_value, op, false)?;
        if let Some(spec) = e.vars.iter().find(|v| v.name == name) {
            let slot = local.iter_mut().find(|(n, _)| *n == spec.name);
            match (spec.modifier, slot) {
                (Modifier::Explode, Some((_, TemplateValue::List(l)))) => l.push(val),
                (Modifier::Explode, None) => {
                    local.push((&spec.name, TemplateValue::List(vec![val])));
                }
                (_, Some(_)) => return Err(Miss::NoMatch),
                (modifier, None) => {
                    if !fits_prefix(modifier, &val) {
                        return Err(Miss::NoMatch);
                    }
                    local.push((&spec.name, TemplateValue::String(val)));
                }
            }
        } else if let Some(spec) = explode_var {
            let slot = local.iter_mut().find(|(n, _)| *n == spec.name);
            match slot {
                Some((_, TemplateValue::Assoc(a))) => a.push((name, val)),
                Some(_) => return Err(Miss::NoMatch),
                None => local.push((&spec.name, TemplateValue::Assoc(vec![(name, val)]))),
            }
        } else {
            return Err(Miss::NoMatch);
        }
    }
    for (name, v) in local {
        insert(vars, name, v)?;
    }
    Ok(())
}
