//! URI parsing and canonicalisation: no panic on any input, and every accepted URI is a
//! fixed point (parsing its canonical form gives it back) with no traversal left in it.
#![no_main]

use std::path::Component;
use std::sync::LazyLock;

use erlmcp_security::{CanonicalUri, RelativePath, UriPolicy};
use libfuzzer_sys::fuzz_target;

static POLICIES: LazyLock<[UriPolicy; 3]> = LazyLock::new(|| {
    [
        UriPolicy::default(),
        UriPolicy {
            allow_dot_segments: true,
            allow_userinfo: true,
            ..UriPolicy::default()
        },
        UriPolicy {
            allow_non_ascii: false,
            max_bytes: 256,
            ..UriPolicy::default()
        },
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for policy in POLICIES.iter() {
        let Ok(uri) = CanonicalUri::parse_with(input, policy) else {
            continue;
        };
        assert!(
            uri.as_str().len() <= policy.max_bytes + 64,
            "canonical form grew: {uri}"
        );
        let again = CanonicalUri::parse_with(uri.as_str(), policy)
            .unwrap_or_else(|e| panic!("canonical form {uri} refused: {e}"));
        assert_eq!(again.as_str(), uri.as_str(), "not idempotent for {input:?}");
        for segment in uri.path_segments() {
            if !policy.allow_dot_segments {
                assert!(segment != "." && segment != "..", "dot segment in {uri}");
            }
            assert!(
                !segment.contains(['/', '\\', '\0']),
                "separator in segment of {uri}"
            );
        }
    }
    if let Ok(path) = RelativePath::parse(input) {
        let buf = path.to_path_buf();
        assert!(
            buf.components().all(|c| matches!(c, Component::Normal(_))),
            "relative path {input:?} has a non-normal component"
        );
    }
});
