//! Opaque-cursor pagination for every `*/list` method.
//!
//! A cursor encodes the offset of the next page together with a fingerprint of the list
//! it was issued for (its length), base64url-encoded so clients treat it as opaque. A
//! cursor that does not decode, or that was issued for a different list, is -32602.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::HandlerError;

/// One page of a list and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

fn encode(offset: usize, total: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("erlmcp:{offset}:{total}"))
}

fn decode(cursor: &str) -> Option<(usize, usize)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let rest = text.strip_prefix("erlmcp:")?;
    let (offset, total) = rest.split_once(':')?;
    Some((offset.parse().ok()?, total.parse().ok()?))
}

/// Cuts one page out of `items`, starting where `cursor` says.
pub fn paginate<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<Page<T>, HandlerError> {
    let page_size = page_size.max(1);
    let offset = match cursor {
        None => 0,
        Some(cursor) => match decode(cursor) {
            Some((offset, total)) if total == items.len() && offset <= items.len() => offset,
            _ => {
                return Err(HandlerError::invalid_params(
                    "invalid or stale pagination cursor",
                ));
            }
        },
    };
    let end = offset.saturating_add(page_size).min(items.len());
    let next_cursor = (end < items.len()).then(|| encode(end, items.len()));
    Ok(Page {
        items: items[offset..end].to_vec(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_all_pages_exactly_once() {
        let items: Vec<u32> = (0..25).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = paginate(&items, cursor.as_deref(), 10).unwrap();
            seen.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn bad_cursors_are_invalid_params() {
        let items: Vec<u32> = (0..5).collect();
        for cursor in ["", "garbage", "ZXJsbWNwOjk5OjU", &encode(2, 6)] {
            assert!(matches!(
                paginate(&items, Some(cursor), 2),
                Err(HandlerError::InvalidParams { .. })
            ));
        }
    }
}
