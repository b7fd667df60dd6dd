//! Prompts: registration, `prompts/list`, `prompts/get` (required arguments enforced),
//! and the completion hook behind `completion/complete`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use erlmcp_codec::schema::{CompleteRequestParams, CompleteResult, GetPromptResult, Prompt};
use futures::future::BoxFuture;

use crate::error::HandlerError;
use crate::server::context::RequestContext;

/// Prompt arguments by name.
pub type PromptArgs = HashMap<String, String>;

/// The future a prompt handler returns.
pub type PromptFuture = BoxFuture<'static, Result<GetPromptResult, HandlerError>>;

/// Renders one prompt.
pub trait PromptHandler: Send + Sync + 'static {
    /// Renders the prompt with its arguments (required ones are checked before the call).
    fn get(&self, arguments: PromptArgs, ctx: RequestContext) -> PromptFuture;
}

impl<F, Fut> PromptHandler for F
where
    F: Fn(PromptArgs, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, HandlerError>> + Send + 'static,
{
    fn get(&self, arguments: PromptArgs, ctx: RequestContext) -> PromptFuture {
        Box::pin(self(arguments, ctx))
    }
}

/// The future a completion handler returns.
pub type CompletionFuture = BoxFuture<'static, Result<CompleteResult, HandlerError>>;

/// Offers completions for prompt arguments and template variables.
pub trait CompletionHandler: Send + Sync + 'static {
    /// Completes one argument value.
    fn complete(&self, params: CompleteRequestParams, ctx: RequestContext) -> CompletionFuture;
}

impl<F, Fut> CompletionHandler for F
where
    F: Fn(CompleteRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CompleteResult, HandlerError>> + Send + 'static,
{
    fn complete(&self, params: CompleteRequestParams, ctx: RequestContext) -> CompletionFuture {
        Box::pin(self(params, ctx))
    }
}

/// The prompts of a server, in registration order.
#[derive(Default)]
pub(crate) struct PromptRegistry {
    order: Vec<Prompt>,
    by_name: HashMap<String, (Prompt, Arc<dyn PromptHandler>)>,
}

impl PromptRegistry {
    pub(crate) fn insert(&mut self, prompt: Prompt, handler: Arc<dyn PromptHandler>) {
        let name = prompt.name.clone();
        if self
            .by_name
            .insert(name.clone(), (prompt.clone(), handler))
            .is_some()
        {
            self.order.retain(|p| p.name != name);
        }
        self.order.push(prompt);
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.order.retain(|p| p.name != name);
        self.by_name.remove(name).is_some()
    }

    pub(crate) fn list(&self) -> &[Prompt] {
        &self.order
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The prompt's handler, after checking that every required argument is present.
    pub(crate) fn resolve(
        &self,
        name: &str,
        arguments: &PromptArgs,
    ) -> Result<Arc<dyn PromptHandler>, HandlerError> {
        let Some((prompt, handler)) = self.by_name.get(name) else {
            return Err(HandlerError::invalid_params(format!(
                "unknown prompt: {name}"
            )));
        };
        let missing: Vec<&str> = prompt
            .arguments
            .iter()
            .flatten()
            .filter(|a| a.required == Some(true) && !arguments.contains_key(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(HandlerError::InvalidParams {
                message: format!("missing required arguments: {}", missing.join(", ")),
                data: Some(serde_json::json!({ "missing": missing })),
            });
        }
        Ok(handler.clone())
    }
}
