//! Cost of a call from its token usage and a per-model price table.

use crate::models::{default_prices, prefix_matches};
use kova_core::Usage;

/// Prices of one model in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens written to the (5-minute) prompt cache.
    pub cache_write: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read: f64,
}

impl ModelPrice {
    /// Input and output prices; cache writes at 1.25x and cache reads at 0.1x the input price,
    /// as Anthropic bills the 5-minute cache.
    pub fn new(input: f64, output: f64) -> Self {
        ModelPrice {
            input,
            output,
            cache_write: input * 1.25,
            cache_read: input * 0.1,
        }
    }

    /// The cost of `usage` in US dollars.
    pub fn cost(&self, usage: &Usage) -> f64 {
        const PER: f64 = 1_000_000.0;
        (usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_creation_tokens as f64 * self.cache_write
            + usage.cache_read_tokens as f64 * self.cache_read)
            / PER
    }
}

/// Prices by model. A model matches an entry named by its alias or id prefix
/// (`claude-sonnet-4-5` prices `claude-sonnet-4-5-20250929`); the longest match wins. A model
/// with no entry has no cost (`None`), never a guessed one.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    entries: Vec<(String, ModelPrice)>,
}

impl Default for PriceTable {
    /// Anthropic's list prices for the current Claude models.
    fn default() -> Self {
        PriceTable {
            entries: default_prices().map(|(m, p)| (m.to_owned(), p)).collect(),
        }
    }
}

impl PriceTable {
    /// A table with no prices (every cost is `None`).
    pub fn empty() -> Self {
        PriceTable {
            entries: Vec::new(),
        }
    }

    /// Sets (or replaces) the price of `model` (an alias or id prefix).
    pub fn with_price(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        let model = model.into();
        self.entries.retain(|(m, _)| *m != model);
        self.entries.push((model, price));
        self
    }

    /// The price of `model`, if the table has one.
    pub fn price(&self, model: &str) -> Option<ModelPrice> {
        self.entries
            .iter()
            .filter(|(prefix, _)| prefix_matches(prefix, model))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, p)| *p)
    }

    /// The cost of `usage` on `model` in US dollars, if the table has its price.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.price(model).map(|p| p.cost(usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn cost_counts_each_kind_of_token_at_its_price() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_creation_tokens: 200_000,
            cache_read_tokens: 2_000_000,
        };
        // Sonnet: $3 in, $15 out, $3.75 cache write, $0.30 cache read per MTok.
        let c = PriceTable::default()
            .cost("claude-sonnet-4-5-20250929", &usage)
            .unwrap();
        assert!(close(c, 3.0 + 1.5 + 0.75 + 0.6), "{c}");
        assert_eq!(PriceTable::default().cost("not-a-claude", &usage), None);
        assert_eq!(PriceTable::empty().cost("claude-sonnet-4-5", &usage), None);
    }

    #[test]
    fn configured_prices_replace_defaults() {
        let t = PriceTable::default().with_price("claude-sonnet-4-5", ModelPrice::new(1.0, 2.0));
        let p = t.price("claude-sonnet-4-5-20250929").unwrap();
        assert!(close(p.input, 1.0) && close(p.cache_write, 1.25) && close(p.cache_read, 0.1));
        let t = t.with_price("my-proxy-model", ModelPrice::new(10.0, 10.0));
        assert!(t.price("my-proxy-model").is_some());
    }
}
