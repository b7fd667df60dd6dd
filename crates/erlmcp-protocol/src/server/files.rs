//! A sandboxed filesystem resource provider: `file://` resources under configured roots.
//!
//! Every read goes through `erlmcp-security`: the URI is parsed and canonicalised,
//! traversal in any disguise is refused, and the file is opened relative to the root's
//! directory handle (cap-std), so a symbolic link inside a root that points outside it is
//! refused and there is no check-then-open race. A refused URI is -32602 naming what was
//! refused (`data.kind`); a URI that is acceptable but names nothing is -32002. Nothing
//! else in the session is disturbed.
//!
//! The files directly under each root (up to [`MAX_LISTED`]) are listed by
//! `resources/list` as of build time; any file below a root can be read through the
//! `file:///{+path}` template.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use erlmcp_codec::schema::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use erlmcp_security::{Sandbox, SecurityError};
use serde_json::json;

use crate::error::HandlerError;

/// Most files listed per root.
pub const MAX_LISTED: usize = 1000;

/// The template under which sandboxed files are read.
pub const FILE_TEMPLATE: &str = "file:///{+path}";

/// The `resources/list` entries for the files directly under each root.
pub(crate) fn listed(sandbox: &Sandbox) -> Vec<Resource> {
    let mut out = Vec::new();
    for root in sandbox.roots() {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.path())
            .collect();
        files.sort();
        for path in files.into_iter().take(MAX_LISTED) {
            if let Ok(uri) = sandbox.file_uri(&path) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut resource = Resource::new(uri.as_str(), name);
                resource.mime_type = Some(mime_for(&path).to_owned());
                out.push(resource);
            }
        }
    }
    out
}

/// The template entry for `resources/templates/list`.
pub(crate) fn template() -> ResourceTemplate {
    let mut template = ResourceTemplate::new(FILE_TEMPLATE, "files");
    template.description = Some("Files under the server's sandboxed roots.".into());
    template
}

/// Reads one `file://` URI through the sandbox.
pub(crate) fn read(sandbox: &Arc<Sandbox>, uri: &str) -> Result<ReadResourceResult, HandlerError> {
    let contents = sandbox.read_resource(uri).map_err(|e| refusal(uri, &e))?;
    let mime = mime_for(&contents.path);
    let uri = contents.uri.as_str().to_owned();
    let entry = match String::from_utf8(contents.bytes) {
        Ok(text) => ResourceContents::text(uri, text).with_mime_type(mime),
        Err(bytes) => {
            let blob = base64::engine::general_purpose::STANDARD.encode(bytes.into_bytes());
            ResourceContents::blob(uri, blob).with_mime_type(mime)
        }
    };
    Ok(ReadResourceResult::new(vec![entry]))
}

fn refusal(uri: &str, error: &SecurityError) -> HandlerError {
    if error.is_not_found() {
        return HandlerError::ResourceNotFound {
            uri: uri.to_owned(),
        };
    }
    HandlerError::InvalidParams {
        message: format!("resource URI refused: {error}"),
        data: Some(json!({ "uri": uri, "kind": error.kind() })),
    }
}

fn mime_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => "text/markdown",
        Some("txt" | "log") => "text/plain",
        Some("json") => "application/json",
        Some("rs") => "text/x-rust",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("html") => "text/html",
        _ => "application/octet-stream",
    }
}
