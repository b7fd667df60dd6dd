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
use erlmcp_security::{TemplateValue, UriTemplate};
use futures::future::BoxFuture;

use crate::error::HandlerError;
use crate::server::context::RequestContext;

/// Variables extracted from a URI by a template match.
pub type TemplateVars = HashMap<String, String>;

/// What serves a URI: its handler and the template variables it matched.
pub(crate) type Resolved = (Arc<dyn ResourceHandler>, TemplateVars);

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
    pattern: UriTemplate,
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
        let pattern = UriTemplate::parse(&template.uri_template)
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
    pub(crate) fn resolve(&self, uri: &str) -> Result<Option<Resolved>, HandlerError> {
        if let Some(handler) = self.handlers.get(uri) {
            return Ok(Some((handler.clone(), TemplateVars::new())));
        }
        for registered in &self.templates {
            match registered.pattern.match_uri(uri) {
                Ok(Some(vars)) => {
                    let vars: TemplateVars = vars
                        .into_iter()
                        .map(|(name, value)| (name, flatten(value)))
                        .collect();
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

/// A matched variable as one string: lists and associative arrays (RFC 6570 explode
/// forms) are joined with commas, as their non-exploded expansion would be.
fn flatten(value: TemplateValue) -> String {
    match value {
        TemplateValue::String(s) => s,
        TemplateValue::List(items) => items.join(","),
        TemplateValue::Assoc(pairs) => pairs
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .collect::<Vec<_>>()
            .join(","),
    }
}
