//! The RFC 6570 grammar (section 2), with limits checked as the parse goes.
//!
//! ```text
//! URI-Template  = *( literals / expression )
//! expression    =  "{" [ operator ] variable-list "}"
//! operator      =  "+" / "#" / "." / "/" / ";" / "?" / "&"      ; "=" "," "!" "@" "|" reserved
//! variable-list =  varspec *( "," varspec )
//! varspec       =  varname [ ":" max-length / "*" ]
//! varname       =  varchar *( ["."] varchar ) ; varchar = ALPHA / DIGIT / "_" / pct-encoded
//! max-length    =  %x31-39 0*3DIGIT
//! ```

use crate::config::TemplateLimits;
use crate::error::{Counted, SecurityError, Subject, TemplateSyntax};

use super::{Expression, Modifier, Operator, Part, VarSpec};

fn syntax(index: usize, reason: TemplateSyntax) -> SecurityError {
    SecurityError::MalformedTemplate { index, reason }
}

fn is_hex_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_hexdigit) && s.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
}

/// RFC 3987 `ucschar` and `iprivate`: the non-ASCII characters a literal may hold.
fn is_ucs_or_private(c: char) -> bool {
    let c = c as u32;
    matches!(c,
        0xA0..=0xD7FF | 0xE000..=0xFDCF | 0xFDF0..=0xFFEF
        | 0x10000..=0x1FFFD | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD
        | 0x40000..=0x4FFFD | 0x50000..=0x5FFFD | 0x60000..=0x6FFFD
        | 0x70000..=0x7FFFD | 0x80000..=0x8FFFD | 0x90000..=0x9FFFD
        | 0xA0000..=0xAFFFD | 0xB0000..=0xBFFFD | 0xC0000..=0xCFFFD
        | 0xD0000..=0xDFFFD | 0xE1000..=0xEFFFD | 0xF0000..=0xFFFFD
        | 0x100000..=0x10FFFD)
}

/// RFC 6570 `literals`, except `%` which the caller handles.
fn is_literal_char(c: char) -> bool {
    match c {
        '\u{21}'
        | '\u{23}'..='\u{24}'
        | '\u{26}'
        | '\u{28}'..='\u{3B}'
        | '\u{3D}'
        | '\u{3F}'..='\u{5B}'
        | '\u{5D}'
        | '\u{5F}'
        | '\u{61}'..='\u{7A}'
        | '\u{7E}' => true,
        c if !c.is_ascii() => is_ucs_or_private(c),
        _ => false,
    }
}

struct Counts {
    expressions: usize,
    variables: usize,
}

pub(super) fn parse(template: &str, limits: &TemplateLimits) -> Result<Vec<Part>, SecurityError> {
    if template.len() > limits.max_bytes {
        return Err(SecurityError::TooLong {
            subject: Subject::Template,
            len: template.len(),
            max: limits.max_bytes,
        });
    }
    let bytes = template.as_bytes();
    let mut parts = Vec::new();
    let mut counts = Counts {
        expressions: 0,
        variables: 0,
    };
    let mut literal_start = 0;
    let mut chars = template.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                if literal_start < i {
                    parts.push(Part::Literal(template[literal_start..i].to_owned()));
                }
                let body_start = i + 1;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    match c {
                        '}' => {
                            end = Some(j);
                            break;
                        }
                        '{' => return Err(syntax(j, TemplateSyntax::NestedBrace)),
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| syntax(i, TemplateSyntax::UnclosedExpression))?;
                counts.expressions += 1;
                if counts.expressions > limits.max_expressions {
                    return Err(SecurityError::TooMany {
                        subject: Counted::TemplateExpressions,
                        count: counts.expressions,
                        max: limits.max_expressions,
                    });
                }
                let expr = parse_expression(template, body_start, end, limits, &mut counts)?;
                parts.push(Part::Expr(expr));
                literal_start = end + 1;
            }
            '}' => return Err(syntax(i, TemplateSyntax::UnopenedBrace)),
            '%' => {
                if !is_hex_at(bytes, i + 1) {
                    return Err(syntax(i, TemplateSyntax::BadLiteral));
                }
            }
            c if is_literal_char(c) => {}
            _ => return Err(syntax(i, TemplateSyntax::BadLiteral)),
        }
    }
    if literal_start < template.len() {
        parts.push(Part::Literal(template[literal_start..].to_owned()));
    }
    Ok(parts)
}

fn parse_expression(
    template: &str,
    start: usize,
    end: usize,
    limits: &TemplateLimits,
    counts: &mut Counts,
) -> Result<Expression, SecurityError> {
    let body = &template[start..end];
    let (op, list_start) = match body.chars().next() {
        None => return Err(syntax(start, TemplateSyntax::EmptyExpression)),
        Some('=' | ',' | '!' | '@' | '|') => {
            return Err(syntax(start, TemplateSyntax::ReservedOperator));
        }
        Some(c) => match Operator::from_char(c) {
            Some(op) => (op, start + 1),
            None => (Operator::Simple, start),
        },
    };
    if list_start == end {
        return Err(syntax(start, TemplateSyntax::EmptyExpression));
    }
    let mut vars = Vec::new();
    let mut spec_start = list_start;
    for spec in template[list_start..end].split(',') {
        counts.variables += 1;
        if counts.variables > limits.max_variables {
            return Err(SecurityError::TooMany {
                subject: Counted::TemplateVariables,
                count: counts.variables,
                max: limits.max_variables,
            });
        }
        vars.push(parse_varspec(spec, spec_start, limits)?);
        spec_start += spec.len() + 1;
    }
    Ok(Expression { op, vars })
}

fn parse_varspec(spec: &str, at: usize, limits: &TemplateLimits) -> Result<VarSpec, SecurityError> {
    let (name, modifier) = if let Some(name) = spec.strip_suffix('*') {
        (name, Modifier::Explode)
    } else if let Some((name, len)) = spec.split_once(':') {
        let valid = (1..=4).contains(&len.len())
            && len.bytes().all(|b| b.is_ascii_digit())
            && !len.starts_with('0');
        let n = len.parse::<u16>().ok().filter(|_| valid);
        let n = n.ok_or_else(|| syntax(at + name.len(), TemplateSyntax::BadPrefix))?;
        (name, Modifier::Prefix(n))
    } else {
        (spec, Modifier::None)
    };
    if name.len() > limits.max_name_bytes {
        return Err(SecurityError::TooLong {
            subject: Subject::VariableName,
            len: name.len(),
            max: limits.max_name_bytes,
        });
    }
    check_varname(name).map_err(|i| syntax(at + i, TemplateSyntax::BadVariableName))?;
    Ok(VarSpec {
        name: name.to_owned(),
        modifier,
    })
}

/// `varchar *( ["."] varchar )`; the error is the offset of the first bad byte.
fn check_varname(name: &str) -> Result<(), usize> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Err(0);
    }
    let mut i = 0;
    let mut prev_dot = true; // a name cannot start with '.'
    while i < b.len() {
        match b[i] {
            b'.' if !prev_dot => {
                prev_dot = true;
                i += 1;
                continue;
            }
            b'%' if is_hex_at(b, i + 1) => i += 3,
            c if c.is_ascii_alphanumeric() || c == b'_' => i += 1,
            _ => return Err(i),
        }
        prev_dot = false;
    }
    if prev_dot { Err(b.len() - 1) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(t: &str) -> Option<TemplateSyntax> {
        match parse(t, &TemplateLimits::default()) {
            Err(SecurityError::MalformedTemplate { reason, .. }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn grammar() {
        for ok in [
            "",
            "plain",
            "{var}",
            "{+path}/x",
            "{#frag}",
            "{.a,b}",
            "{/p*}",
            "{;x,y}",
            "{?q,page}",
            "{&more*}",
            "{var:30}",
            "{a.b_c}",
            "{%41b}",
            "http://x/{y}?{z}",
            "caf\u{e9}/{x}",
            "%2F{x}",
        ] {
            assert!(parse(ok, &TemplateLimits::default()).is_ok(), "{ok}");
        }
        assert_eq!(reason("{a"), Some(TemplateSyntax::UnclosedExpression));
        assert_eq!(reason("a}"), Some(TemplateSyntax::UnopenedBrace));
        assert_eq!(reason("{a{b}}"), Some(TemplateSyntax::NestedBrace));
        assert_eq!(reason("{}"), Some(TemplateSyntax::EmptyExpression));
        assert_eq!(reason("{+}"), Some(TemplateSyntax::EmptyExpression));
        assert_eq!(reason("{=a}"), Some(TemplateSyntax::ReservedOperator));
        assert_eq!(reason("{|a}"), Some(TemplateSyntax::ReservedOperator));
        assert_eq!(reason("{,}"), Some(TemplateSyntax::ReservedOperator));
        assert_eq!(reason("{a,}"), Some(TemplateSyntax::BadVariableName));
        assert_eq!(reason("{,a}"), Some(TemplateSyntax::ReservedOperator));
        assert_eq!(reason("{a-b}"), Some(TemplateSyntax::BadVariableName));
        assert_eq!(reason("{.a.}"), Some(TemplateSyntax::BadVariableName));
        assert_eq!(reason("{a..b}"), Some(TemplateSyntax::BadVariableName));
        assert_eq!(reason("{a:0}"), Some(TemplateSyntax::BadPrefix));
        assert_eq!(reason("{a:10000}"), Some(TemplateSyntax::BadPrefix));
        assert_eq!(reason("{a:}"), Some(TemplateSyntax::BadPrefix));
        assert_eq!(reason("a b"), Some(TemplateSyntax::BadLiteral));
        assert_eq!(reason("a%zz"), Some(TemplateSyntax::BadLiteral));
        assert_eq!(reason("a<b"), Some(TemplateSyntax::BadLiteral));
    }
}
