//! Resources and resource templates: registration, `resources/list`,
//! `resources/templates/list`, `resources/read`.
//!
//! A read is served by the resource registered under exactly that URI, else by the first
//! template whose RFC 6570 pattern matches the URI (the match goes through
//! `erlmcp-security`, so extracted variables never carry traversal tricks). A URI that
//! nothing serves is -32002 (resource not found).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use erlmcp_codec::schema::{ReadResourceResult, Resource, ResourceTemplate};
use futures::future::BoxFuture;

use crate::error::HandlerError;
use crate::server::context::RequestContext;

/// Variables extracted from a URI by a template match.
pub type TemplateVars = HashMap<String, String>;

/// The future a resource handler returns.
pub type ResourceFuture = BoxFuture<'static, Result<ReadResourceResult, HandlerError>>;

/// Reads one resource.
pub trait ResourceHandler: Send + Sync + 'static {
    /// Reads `uri`; `vars` holds the template variables (empty for plain resources).
    fn read(&self, uri: String, vars: TemplateVars, ctx: RequestContext) -> ResourceFuture;
}

impl<F, Fut> ResourceHandler for F
where
    F: Fn(String, TemplateVars, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
{
    fn read(&self, uri: String, vars: TemplateVars, ctx: RequestContext) -> ResourceFuture {
        Box::pin(self(uri, vars, ctx))
    }
}

pub(crate) struct RegisteredTemplate {
    pub(crate) template: ResourceTemplate,
    pattern: interim::UriTemplate,
    handler: Arc<dyn ResourceHandler>,
}

/// The resources and templates of a server, in registration order.
#[derive(Default)]
pub(crate) struct ResourceRegistry {
    resources: Vec<Resource>,
    handlers: HashMap<String, Arc<dyn ResourceHandler>>,
    templates: Vec<RegisteredTemplate>,
}

impl ResourceRegistry {
    pub(crate) fn insert(&mut self, resource: Resource, handler: Arc<dyn ResourceHandler>) {
        let uri = resource.uri.clone();
        if self.handlers.insert(uri.clone(), handler).is_some() {
            self.resources.retain(|r| r.uri != uri);
        }
        self.resources.push(resource);
    }

    pub(crate) fn insert_template(
        &mut self,
        template: ResourceTemplate,
        handler: Arc<dyn ResourceHandler>,
    ) -> Result<(), String> {
        let pattern = interim::UriTemplate::parse(&template.uri_template)
            .map_err(|e| format!("uriTemplate `{}`: {e}", template.uri_template))?;
        self.templates.push(RegisteredTemplate {
            template,
            pattern,
            handler,
        });
        Ok(())
    }

    pub(crate) fn remove(&mut self, uri: &str) -> bool {
        self.resources.retain(|r| r.uri != uri);
        self.handlers.remove(uri).is_some()
    }

    pub(crate) fn list(&self) -> &[Resource] {
        &self.resources
    }

    pub(crate) fn templates(&self) -> Vec<ResourceTemplate> {
        self.templates.iter().map(|t| t.template.clone()).collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.templates.is_empty()
    }

    /// Finds what serves `uri`, or why nothing may.
    pub(crate) fn resolve(
        &self,
        uri: &str,
    ) -> Result<Option<(Arc<dyn ResourceHandler>, TemplateVars)>, HandlerError> {
        if let Some(handler) = self.handlers.get(uri) {
            return Ok(Some((handler.clone(), TemplateVars::new())));
        }
        for registered in &self.templates {
            match registered.pattern.match_uri(uri) {
                Ok(Some(vars)) => {
                    let vars: TemplateVars = vars.into_iter().collect();
                    return Ok(Some((registered.handler.clone(), vars)));
                }
                Ok(None) => {}
                Err(refused) => {
                    return Err(HandlerError::invalid_params(format!(
                        "resource URI refused: {refused}"
                    )));
                }
            }
        }
        Ok(None)
    }
}

/// Interim level-1 matcher until the erlmcp-security template engine is wired in.
mod interim {
    pub(super) struct UriTemplate(Vec<Part>);
    enum Part {
        Lit(String),
        Var(String),
    }
    impl UriTemplate {
        pub(super) fn parse(t: &str) -> Result<Self, &'static str> {
            let mut parts = Vec::new();
            let mut rest = t;
            while let Some(open) = rest.find('{') {
                parts.push(Part::Lit(rest[..open].to_owned()));
                let close = rest[open..].find('}').ok_or("unclosed expression")? + open;
                parts.push(Part::Var(rest[open + 1..close].to_owned()));
                rest = &rest[close + 1..];
            }
            parts.push(Part::Lit(rest.to_owned()));
            Ok(UriTemplate(parts))
        }
        pub(super) fn match_uri(
            &self,
            uri: &str,
        ) -> Result<Option<Vec<(String, String)>>, &'static str> {
            let mut vars = Vec::new();
            let mut rest = uri;
            let mut i = 0;
            while i < self.0.len() {
                match &self.0[i] {
                    Part::Lit(l) => match rest.strip_prefix(l.as_str()) {
                        Some(r) => rest = r,
                        None => return Ok(None),
                    },
                    Part::Var(name) => {
                        let end = match self.0.get(i + 1) {
                            Some(Part::Lit(next)) if !next.is_empty() => {
                                match rest.find(next.as_str()) {
                                    Some(e) => e,
                                    None => return Ok(None),
                                }
                            }
                            _ => rest.len(),
                        };
                        let value = &rest[..end];
                        if value.is_empty() || value.contains('/') {
                            return Ok(None);
                        }
                        if value.contains('%') || value.contains("..") {
                            return Err("encoded or traversal characters in a template variable");
                        }
                        vars.push((name.clone(), value.to_owned()));
                        rest = &rest[end..];
                    }
                }
                i += 1;
            }
            Ok(rest.is_empty().then_some(vars))
        }
    }
}
