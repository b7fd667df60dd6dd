//! URI templates: parse any template; match the rest of the input against it; expand it
//! with values taken from the input. No panic, bounded output, and matched values never
//! hold a traversal.
//!
//! Input: `template \n uri \n value,value,…`
#![no_main]

use erlmcp_security::{TemplateValue, UriTemplate, Vars};
use libfuzzer_sys::fuzz_target;

fn strings(v: &TemplateValue) -> Vec<&str> {
    match v {
        TemplateValue::String(s) => vec![s.as_str()],
        TemplateValue::List(l) => l.iter().map(String::as_str).collect(),
        TemplateValue::Assoc(a) => a
            .iter()
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
            .collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = input.splitn(3, '\n');
    let template = lines.next().unwrap_or("");
    let uri = lines.next().unwrap_or("");
    let values = lines.next().unwrap_or("");
    let Ok(t) = UriTemplate::parse(template) else {
        return;
    };

    if let Ok(Some(vars)) = t.match_uri(uri) {
        for v in vars.values() {
            for s in strings(v) {
                assert!(!s.contains(['\0', '\\']), "{s:?} matched from {uri:?}");
                assert!(s != ".." && s != ".", "{s:?} matched from {uri:?}");
            }
        }
        let _ = t.expand(&vars);
    }

    let mut pieces = values.split(',');
    let mut vars = Vars::new();
    for (i, name) in t.variables().into_iter().enumerate() {
        let Some(piece) = pieces.next() else { break };
        let value = match i % 3 {
            0 => TemplateValue::String(piece.to_owned()),
            1 => TemplateValue::List(piece.split(';').map(str::to_owned).collect()),
            _ => TemplateValue::Assoc(
                piece
                    .split(';')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (k.to_owned(), v.to_owned())
                    })
                    .collect(),
            ),
        };
        vars.insert(name.to_owned(), value);
    }
    if let Ok(expanded) = t.expand(&vars) {
        assert!(expanded.len() <= 8 * 1024, "expansion past the limit");
        assert!(expanded.is_ascii(), "expansion is not a URI: {expanded:?}");
        let _ = t.match_uri(&expanded);
    }
});
