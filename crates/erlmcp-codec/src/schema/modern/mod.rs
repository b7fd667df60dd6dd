//! MCP 2026-07-28, the stateless era: what is new on the wire, split by spec area.
//!
//! Types that 2026-07-28 shares with the handshake era (tools, resources, prompts,
//! content, sampling, elicitation, roots, completion) stay in their own modules: their
//! 2026 shapes add members (`resultType`, `ttlMs`, `cacheScope`, `inputResponses`,
//! `requestState`) that those types keep in `extra`, so one set of types serves both
//! eras. The modules here hold what has no handshake-era counterpart.
//!
//! | module | spec area |
//! |---|---|
//! | [`meta`] | the reserved `_meta` keys of requests, results and notifications ([`RequestMeta`]) |
//! | [`results`] | [`ResultType`] and the caching hints ([`CacheScope`], [`CacheHints`]) |
//! | [`discover`] | `server/discover` ([`DiscoverResult`]) |
//! | [`input`] | multi-round-trip requests ([`InputRequest`], [`InputRequiredResult`], [`InputResponses`]) |
//! | [`subscriptions`] | `subscriptions/listen` and `notifications/subscriptions/acknowledged` |

pub mod discover;
pub mod input;
pub mod meta;
pub mod results;
pub mod subscriptions;

pub use discover::DiscoverResult;
pub use input::{InputRequest, InputRequests, InputRequiredResult, InputResponses};
pub use meta::{
    CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY,
    PROTOCOL_VERSION_META_KEY, RequestMeta, SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY,
    TASKS_EXTENSION,
};
pub use results::{CacheHints, CacheScope, ResultType};
pub use subscriptions::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams, SubscriptionsListenResult,
};
