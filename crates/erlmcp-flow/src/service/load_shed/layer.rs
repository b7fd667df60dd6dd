use tower::Layer;

use super::LoadShed;
use crate::budget::MemoryBudget;

/// Wraps services in a [`LoadShed`] watching one [`MemoryBudget`].
#[derive(Debug, Clone)]
pub struct LoadShedLayer {
    budget: MemoryBudget,
}

impl LoadShedLayer {
    /// Sheds while `budget` is under pressure.
    pub fn new(budget: MemoryBudget) -> Self {
        LoadShedLayer { budget }
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed::new(inner, self.budget.clone())
    }
}
