//! Tools: registration, `tools/list`, `tools/call`.
//!
//! Protocol errors (unknown tool, malformed params) are JSON-RPC errors; everything that
//! goes wrong *inside* a tool — including arguments that fail the tool's `inputSchema` —
//! is a result with `isError: true`, so the model can see it and correct itself
//! (MCP 2025-11-25, "Error Handling"). A declared `outputSchema` is enforced on the
//! tool's `structuredContent`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use erlmcp_codec::schema::{CallToolResult, JsonObject, TaskSupport, Tool};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::HandlerError;
use crate::server::context::RequestContext;

/// The future a tool handler returns.
pub type ToolFuture = BoxFuture<'static, Result<CallToolResult, HandlerError>>;

/// Something that runs a tool.
pub trait ToolHandler: Send + Sync + 'static {
    /// Runs the tool with its arguments (an empty object when none were sent).
    fn call(&self, arguments: JsonObject, ctx: RequestContext) -> ToolFuture;
}

impl<F, Fut> ToolHandler for F
where
    F: Fn(JsonObject, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
{
    fn call(&self, arguments: JsonObject, ctx: RequestContext) -> ToolFuture {
        Box::pin(self(arguments, ctx))
    }
}

/// A tool handler taking typed arguments: arguments that don't deserialise into `A`
/// become an `isError` result naming the problem.
pub(crate) struct TypedTool<A, F> {
    f: F,
    _args: std::marker::PhantomData<fn() -> A>,
}

impl<A, F> TypedTool<A, F> {
    pub(crate) fn new(f: F) -> Self {
        TypedTool {
            f,
            _args: std::marker::PhantomData,
        }
    }
}

impl<A, F, Fut> ToolHandler for TypedTool<A, F>
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
{
    fn call(&self, arguments: JsonObject, ctx: RequestContext) -> ToolFuture {
        match serde_json::from_value::<A>(Value::Object(arguments)) {
            Ok(args) => Box::pin((self.f)(args, ctx)),
            Err(err) => {
                let result = CallToolResult::error_text(format!("invalid arguments: {err}"));
                Box::pin(async move { Ok(result) })
            }
        }
    }
}

pub(crate) struct RegisteredTool {
    pub(crate) tool: Tool,
    pub(crate) handler: Arc<dyn ToolHandler>,
    input_validator: Option<jsonschema::Validator>,
    output_validator: Option<jsonschema::Validator>,
}

impl RegisteredTool {
    fn new(tool: Tool, handler: Arc<dyn ToolHandler>) -> Result<Self, String> {
        let input_validator = compile(&tool.input_schema)
            .map_err(|e| format!("inputSchema of `{}`: {e}", tool.name))?;
        let output_validator = match &tool.output_schema {
            Some(schema) => {
                compile(schema).map_err(|e| format!("outputSchema of `{}`: {e}", tool.name))?
            }
            None => None,
        };
        Ok(RegisteredTool {
            tool,
            handler,
            input_validator,
            output_validator,
        })
    }

    /// Checks arguments against the input schema; the error text lists every violation.
    pub(crate) fn validate_input(&self, arguments: &Value) -> Result<(), String> {
        let Some(validator) = &self.input_validator else {
            return Ok(());
        };
        // The yes/no check allocates nothing; errors are collected only when it says no.
        if validator.is_valid(arguments) {
            return Ok(());
        }
        let problems: Vec<String> = validator
            .iter_errors(arguments)
            .map(|e| format!("{} (at `{}`)", e, e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Checks a result's `structuredContent` against the output schema.
    pub(crate) fn validate_output(&self, result: &CallToolResult) -> Result<(), HandlerError> {
        let Some(validator) = &self.output_validator else {
            return Ok(());
        };
        if result.is_error == Some(true) {
            return Ok(());
        }
        let Some(structured) = &result.structured_content else {
            return Err(HandlerError::internal(format!(
                "tool `{}` declares an outputSchema but returned no structuredContent",
                self.tool.name
            )));
        };
        let value = structured.clone();
        if validator.is_valid(&value) {
            Ok(())
        } else {
            Err(HandlerError::internal(format!(
                "tool `{}` returned structuredContent that does not match its outputSchema",
                self.tool.name
            )))
        }
    }
}

fn compile<S: serde::Serialize>(schema: &S) -> Result<Option<jsonschema::Validator>, String> {
    let value = serde_json::to_value(schema).map_err(|e| e.to_string())?;
    // An object schema with nothing but `type: object` accepts every object: skip it.
    if let Value::Object(map) = &value
        && map.len() == 1
        && map.get("type") == Some(&Value::from("object"))
    {
        return Ok(None);
    }
    jsonschema::validator_for(&value)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The tools of a server, in registration order.
#[derive(Default)]
pub(crate) struct ToolRegistry {
    order: Vec<Tool>,
    by_name: HashMap<String, Arc<RegisteredTool>>,
}

impl ToolRegistry {
    pub(crate) fn insert(
        &mut self,
        tool: Tool,
        handler: Arc<dyn ToolHandler>,
    ) -> Result<(), String> {
        let name = tool.name.clone();
        let registered = RegisteredTool::new(tool.clone(), handler)?;
        if self
            .by_name
            .insert(name.clone(), Arc::new(registered))
            .is_some()
        {
            self.order.retain(|t| t.name != name);
        }
        self.order.push(tool);
        Ok(())
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.order.retain(|t| t.name != name);
        self.by_name.remove(name).is_some()
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<RegisteredTool>> {
        self.by_name.get(name).cloned()
    }

    pub(crate) fn list(&self) -> &[Tool] {
        &self.order
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// True when some tool may run as a task.
    pub(crate) fn supports_tasks(&self) -> bool {
        self.order
            .iter()
            .any(|t| task_support(t) != TaskSupport::Forbidden)
    }
}

/// The tool's `execution.taskSupport` (absent means forbidden).
pub(crate) fn task_support(tool: &Tool) -> TaskSupport {
    tool.execution
        .as_ref()
        .and_then(|e| e.task_support)
        .unwrap_or(TaskSupport::Forbidden)
}
