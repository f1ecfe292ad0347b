//! What Kova knows about Claude models: the default model, context windows, output limits and
//! list prices. The one place to update when Anthropic ships or reprices a model.

use crate::pricing::ModelPrice;

/// The model used when neither the request, the builder nor `KOVA_CLAUDE_MODEL` names one.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";

/// Output tokens asked for when neither the request nor the builder says (capped at the model's
/// own limit when it is known, so the default never makes a request the API rejects).
pub const DEFAULT_MAX_TOKENS: u32 = 8_192;

/// Limits of one model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelLimits {
    /// Prompt tokens the model accepts.
    pub context_window: u32,
    /// Output tokens the model can produce in one answer.
    pub max_output_tokens: u32,
}

/// Limits assumed for a model the table does not know: the smallest of the current models, so
/// budgets computed from them are never too generous.
pub const UNKNOWN_MODEL_LIMITS: ModelLimits = ModelLimits {
    context_window: 200_000,
    max_output_tokens: 4_096,
};

struct KnownModel {
    /// Alias or id prefix: `claude-sonnet-4-5` also matches `claude-sonnet-4-5-20250929`.
    prefix: &'static str,
    limits: ModelLimits,
    /// US dollars per million input and output tokens (list prices, standard 200k context).
    input: f64,
    output: f64,
}

const fn known(prefix: &'static str, max_out: u32, input: f64, output: f64) -> KnownModel {
    KnownModel {
        prefix,
        limits: ModelLimits {
            context_window: 200_000,
            max_output_tokens: max_out,
        },
        input,
        output,
    }
}

// Anthropic's published limits and list prices. Cache writes (5-minute) cost 1.25x input and
// cache reads 0.1x input; `ModelPrice::new` derives them.
const KNOWN_MODELS: &[KnownModel] = &[
    known("claude-opus-4-5", 64_000, 5.0, 25.0),
    known("claude-opus-4-1", 32_000, 15.0, 75.0),
    known("claude-opus-4", 32_000, 15.0, 75.0),
    known("claude-sonnet-4-5", 64_000, 3.0, 15.0),
    known("claude-sonnet-4", 64_000, 3.0, 15.0),
    known("claude-haiku-4-5", 64_000, 1.0, 5.0),
    known("claude-3-7-sonnet", 64_000, 3.0, 15.0),
    known("claude-3-5-sonnet", 8_192, 3.0, 15.0),
    known("claude-3-5-haiku", 8_192, 0.8, 4.0),
    known("claude-3-opus", 4_096, 15.0, 75.0),
    known("claude-3-haiku", 4_096, 0.25, 1.25),
];

/// Whether `prefix` names `model`: equal, or a prefix followed by `-` (a dated id or `-latest`).
pub(crate) fn prefix_matches(prefix: &str, model: &str) -> bool {
    model
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

fn lookup(model: &str) -> Option<&'static KnownModel> {
    // The longest matching prefix wins, so `claude-opus-4-1-…` is not priced as `claude-opus-4`.
    KNOWN_MODELS
        .iter()
        .filter(|k| prefix_matches(k.prefix, model))
        .max_by_key(|k| k.prefix.len())
}

/// The limits of `model`, if the table knows it.
pub fn model_limits(model: &str) -> Option<ModelLimits> {
    lookup(model).map(|k| k.limits)
}

/// Default prices: one `(prefix, price)` per known model family.
pub(crate) fn default_prices() -> impl Iterator<Item = (&'static str, ModelPrice)> {
    KNOWN_MODELS
        .iter()
        .map(|k| (k.prefix, ModelPrice::new(k.input, k.output)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_at_a_dash_boundary() {
        assert_eq!(
            model_limits("claude-opus-4-1-20250805")
                .unwrap()
                .max_output_tokens,
            32_000
        );
        assert_eq!(
            model_limits("claude-opus-4-5").unwrap().max_output_tokens,
            64_000
        );
        assert_eq!(
            model_limits("claude-3-5-haiku-latest")
                .unwrap()
                .max_output_tokens,
            8_192
        );
        assert_eq!(
            model_limits("claude-sonnet-4-5-20250929")
                .unwrap()
                .context_window,
            200_000
        );
        assert!(model_limits("claude-opus-45").is_none());
        assert!(model_limits("gpt-4o").is_none());
        assert!(model_limits(DEFAULT_MODEL).is_some());
    }
}
