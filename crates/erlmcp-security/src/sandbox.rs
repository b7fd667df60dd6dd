//! The resource sandbox: `file://` URIs resolved against a set of allowed roots, and files
//! opened relative to the root's directory handle.
//!
//! This is the one place the crate touches the file system. The checks are lexical first
//! (the URI is validated, mapped to the longest matching root, and the rest of its path
//! must be a [`RelativePath`]); then the file is opened *through the root's directory
//! handle* with `cap-std`, which on Linux uses `openat2(RESOLVE_BENEATH)` and elsewhere
//! resolves component by component, so a symbolic link that leads outside the root is
//! refused by the same call that opens the file. There is no check-then-open window: a
//! link swapped in after the lexical checks is still caught at open time.
//!
//! Symbolic links that stay inside their root are followed. Hard links cannot be told
//! apart from ordinary files and are not a sandbox concern (creating one needs write
//! access to the root). Files are opened non-blocking, so a FIFO planted under a root
//! cannot hang the reader, and anything that is not a regular file is refused.
//!
//! ```
//! use erlmcp_security::Sandbox;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("notes.md"), "# Notes")?;
//! let sandbox = Sandbox::new([dir.path()])?;
//!
//! let root_uri = sandbox.file_uri(&sandbox.roots()[0])?;
//! let contents = sandbox.read_resource(&format!("{root_uri}/notes.md"))?;
//! assert_eq!(contents.bytes, b"# Notes");
//!
//! let refused = sandbox.read_resource("file:///etc/passwd").unwrap_err();
//! assert_eq!(refused.kind(), "sandbox.outside_roots");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use cap_std::fs::{Dir, OpenOptions};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::config::SecurityConfig;
use crate::error::{ConfigFault, SecurityError};
use crate::event;
use crate::traversal::RelativePath;
use crate::uri::CanonicalUri;

/// Characters percent-encoded in a path segment of a `file://` URI built by
/// [`Sandbox::file_uri`]: controls, space, and everything RFC 3986 does not allow in a
/// segment (plus `%`, so names holding it round-trip).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

struct Root {
    /// Canonical absolute path.
    path: PathBuf,
    /// Its components as strings (`["srv", "data"]`; `"C:"` for a Windows prefix).
    segments: Vec<String>,
    dir: Dir,
}

/// A set of allowed root directories, and the only way to open a resource under them.
/// See the [module documentation](self).
pub struct Sandbox {
    roots: Vec<Root>,
    root_paths: Vec<PathBuf>,
    config: SecurityConfig,
}

/// A resource opened by [`Sandbox::open_resource`].
#[derive(Debug)]
pub struct OpenResource {
    /// The open file: read-only, and on Unix with `O_NONBLOCK` set (which regular files
    /// ignore).
    pub file: fs::File,
    /// Its path, with symbolic links under the root resolved.
    pub path: PathBuf,
    /// The canonical URI it was opened by.
    pub uri: CanonicalUri,
    /// Its size when it was opened.
    pub len: u64,
}

/// A resource read by [`Sandbox::read_resource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceContents {
    /// The contents.
    pub bytes: Vec<u8>,
    /// Its path, with symbolic links under the root resolved.
    pub path: PathBuf,
    /// The canonical URI it was read by.
    pub uri: CanonicalUri,
}

/// Where a URI points, before anything is opened: see [`Sandbox::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Index of the root in [`Sandbox::roots`].
    pub root: usize,
    /// The path under that root.
    pub relative: RelativePath,
    /// The canonical URI.
    pub uri: CanonicalUri,
}

fn io_error(source: io::Error) -> SecurityError {
    SecurityError::Io { source }
}

fn path_segments(path: &Path) -> Result<Vec<String>, SecurityError> {
    let mut segments = Vec::new();
    for c in path.components() {
        match c {
            Component::Prefix(p) => segments.push(
                p.as_os_str()
                    .to_str()
                    .ok_or_else(|| SecurityError::config(ConfigFault::NonUtf8Root))?
                    .to_owned(),
            ),
            Component::Normal(s) => segments.push(
                s.to_str()
                    .ok_or_else(|| SecurityError::config(ConfigFault::NonUtf8Root))?
                    .to_owned(),
            ),
            Component::RootDir => {}
            Component::CurDir | Component::ParentDir => {
                return Err(SecurityError::config(ConfigFault::BadRoot));
            }
        }
    }
    Ok(segments)
}

impl Sandbox {
    /// A sandbox over `roots` with the default [`SecurityConfig`]. Each root must be an
    /// existing directory; it is canonicalised (symbolic links in the root path itself
    /// are resolved once, here) and opened.
    pub fn new<I, P>(roots: I) -> Result<Self, SecurityError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        Self::with_config(roots, &SecurityConfig::default())
    }

    /// A sandbox over `roots` with `config` (its `uri` policy and `sandbox` limits).
    pub fn with_config<I, P>(roots: I, config: &SecurityConfig) -> Result<Self, SecurityError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        config.validate()?;
        let bad_root = |_| SecurityError::config(ConfigFault::BadRoot);
        let mut opened = Vec::new();
        for root in roots {
            let path = fs::canonicalize(root.as_ref()).map_err(bad_root)?;
            let dir =
                Dir::open_ambient_dir(&path, cap_std::ambient_authority()).map_err(bad_root)?;
            let segments = path_segments(&path)?;
            opened.push(Root {
                path,
                segments,
                dir,
            });
        }
        let root_paths = opened.iter().map(|r| r.path.clone()).collect();
        Ok(Sandbox {
            roots: opened,
            root_paths,
            config: config.clone(),
        })
    }

    /// The canonical root paths, in the order given.
    pub fn roots(&self) -> &[PathBuf] {
        &self.root_paths
    }

    /// The canonical `file://` URI of an absolute path under one of the roots (for
    /// listing resources). The path is checked lexically; nothing is opened.
    pub fn file_uri(&self, path: &Path) -> Result<CanonicalUri, SecurityError> {
        let segments = path_segments(path)?;
        if !path.has_root() || !self.roots.iter().any(|r| segments.starts_with(&r.segments)) {
            return Err(SecurityError::OutsideRoots);
        }
        let mut uri = String::from("file://");
        for s in &segments {
            uri.push('/');
            uri.extend(utf8_percent_encode(s, SEGMENT));
        }
        if segments.is_empty() {
            uri.push('/');
        }
        CanonicalUri::parse_with(&uri, &self.config.uri)
    }

    /// Maps a `file://` URI to a root and a relative path, without opening anything:
    /// the URI is validated, must be `file:` with an empty or `localhost` host, and must
    /// name something strictly below one of the roots (the longest match wins).
    pub fn resolve(&self, uri: &str) -> Result<Resolved, SecurityError> {
        event::report(self.resolve_inner(uri))
    }

    fn resolve_inner(&self, uri: &str) -> Result<Resolved, SecurityError> {
        let uri = CanonicalUri::check(uri, &self.config.uri)?;
        if uri.scheme() != "file" {
            return Err(SecurityError::SchemeNotAllowed);
        }
        if !matches!(uri.host(), Some("" | "localhost")) {
            return Err(SecurityError::HostNotAllowed);
        }
        let segments: Vec<String> = uri.path_segments().collect();
        let (index, root) = self
            .roots
            .iter()
            .enumerate()
            .filter(|(_, r)| segments.starts_with(&r.segments))
            .max_by_key(|(_, r)| r.segments.len())
            .ok_or(SecurityError::OutsideRoots)?;
        let rest = &segments[root.segments.len()..];
        if rest.is_empty() || rest == [""] {
            return Err(SecurityError::NotAFile);
        }
        let relative = RelativePath::check(&rest.join("/"), &self.config.uri)?;
        Ok(Resolved {
            root: index,
            relative,
            uri,
        })
    }

    /// Opens the resource a `file://` URI names, read-only. See the
    /// [module documentation](self) for what is refused. `Err` with
    /// [`SecurityError::is_not_found`] means the URI was acceptable but names nothing.
    pub fn open_resource(&self, uri: &str) -> Result<OpenResource, SecurityError> {
        event::report(self.resolve_inner(uri).and_then(|r| self.open_resolved(r)))
    }

    /// Opens `path` (already percent-decoded, `/`-separated) under root number `root`;
    /// for resources addressed by a template such as `docs://{+path}` rather than by a
    /// `file://` URI.
    pub fn open_relative(&self, root: usize, path: &str) -> Result<OpenResource, SecurityError> {
        let open = || {
            let r = self.roots.get(root).ok_or(SecurityError::OutsideRoots)?;
            let relative = RelativePath::check(path, &self.config.uri)?;
            let full = r.path.join(relative.to_path_buf());
            let uri = self.file_uri(&full)?;
            self.open_resolved(Resolved {
                root,
                relative,
                uri,
            })
        };
        event::report(open())
    }

    /// [`Sandbox::open_resource`], then reads the whole file, refusing one larger than
    /// [`crate::SandboxLimits::max_resource_bytes`].
    pub fn read_resource(&self, uri: &str) -> Result<ResourceContents, SecurityError> {
        let read = || {
            let opened = self
                .resolve_inner(uri)
                .and_then(|r| self.open_resolved(r))?;
            self.read_opened(opened)
        };
        event::report(read())
    }

    fn read_opened(&self, opened: OpenResource) -> Result<ResourceContents, SecurityError> {
        let max = self.config.sandbox.max_resource_bytes;
        let too_large = |len| SecurityError::ResourceTooLarge { len, max };
        if opened.len > max {
            return Err(too_large(opened.len));
        }
        let capacity = usize::try_from(opened.len).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        // Read one byte past the limit, in case the file grew since it was opened.
        opened
            .file
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        let len = bytes.len() as u64;
        if len > max {
            return Err(too_large(len));
        }
        Ok(ResourceContents {
            bytes,
            path: opened.path,
            uri: opened.uri,
        })
    }

    fn open_resolved(&self, resolved: Resolved) -> Result<OpenResource, SecurityError> {
        let root = &self.roots[resolved.root];
        let relative = resolved.relative.to_path_buf();
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt;
            // O_NONBLOCK: opening a FIFO must not wait for a writer. It has no effect on
            // regular files.
            let nonblock = rustix::fs::OFlags::NONBLOCK.bits();
            options.custom_flags(i32::try_from(nonblock).unwrap_or(0));
        }
        let file = root
            .dir
            .open_with(&relative, &options)
            .map_err(|e| classify(root, &resolved.relative, e))?;
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() {
            return Err(SecurityError::NotAFile);
        }
        let path = match root.dir.canonicalize(&relative) {
            Ok(inside) => root.path.join(inside),
            Err(_) => root.path.join(&relative),
        };
        Ok(OpenResource {
            file: file.into_std(),
            path,
            uri: resolved.uri,
            len: meta.len(),
        })
    }
}

/// Tells a symbolic-link escape apart from other failures. `cap-std` reports an escape
/// as `PermissionDenied`; the lexical checks already refused every `..`, so an escape can
/// only come from a link, and we look for one along the path to say so. The decision to
/// refuse was already made by the open call; this only names it.
fn classify(root: &Root, relative: &RelativePath, error: io::Error) -> SecurityError {
    if error.kind() == io::ErrorKind::PermissionDenied {
        let mut prefix = PathBuf::new();
        for segment in relative.segments() {
            prefix.push(segment);
            match root.dir.symlink_metadata(&prefix) {
                Ok(m) if m.file_type().is_symlink() => return SecurityError::SymlinkEscape,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    io_error(error)
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("roots", &self.root_paths)
            .finish_non_exhaustive()
    }
}
