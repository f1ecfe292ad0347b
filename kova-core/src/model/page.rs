//! Pagination: every list call takes [`ListOptions`] and returns a [`Page`].

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The largest page a store hands out, whatever the caller asks for.
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when the caller does not say.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// Options for a list call. Construct with `ListOptions::default()` and the setters, so new
/// options never break callers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Maximum number of items; `None` means [`DEFAULT_PAGE_SIZE`]; capped at [`MAX_PAGE_SIZE`].
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page; `None` starts at the beginning.
    pub cursor: Option<String>,
}

impl ListOptions {
    /// Sets the page size.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues after a previous page.
    pub fn with_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The effective page size: the requested limit, defaulted and capped, at least 1.
    pub fn effective_limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }

    /// Decodes a cursor over integer ids (lists ordered newest first resume *below* it).
    pub fn id_cursor(&self) -> Result<Option<i64>> {
        match &self.cursor {
            None => Ok(None),
            Some(c) => c
                .strip_prefix("id:")
                .and_then(|n| n.parse::<i64>().ok())
                .map(Some)
                .ok_or_else(|| Error::invalid("cursor", "not a cursor returned by this list")),
        }
    }

    /// Decodes a cursor over text keys (lists ordered by name resume *after* it).
    pub fn key_cursor(&self) -> Result<Option<String>> {
        match &self.cursor {
            None => Ok(None),
            Some(c) => c
                .strip_prefix("key:")
                .map(|k| Some(k.to_string()))
                .ok_or_else(|| Error::invalid("cursor", "not a cursor returned by this list")),
        }
    }
}

/// One page of results and the cursor to the next, if there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Pass this as [`ListOptions::cursor`] to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: the extra item, if present, only
    /// proves there is a next page, and `cursor_of` turns the last kept item into its cursor.
    pub fn from_overfetch(
        mut items: Vec<T>,
        limit: usize,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor_of)
        } else {
            None
        };
        Page { items, next_cursor }
    }

    /// Every item of a paginated list: calls `fetch` with the options of each page (the
    /// largest page size, then each returned cursor) until the last page.
    pub async fn collect_all<F, Fut>(mut fetch: F) -> Result<Vec<T>>
    where
        F: FnMut(ListOptions) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>>>,
    {
        let mut out = Vec::new();
        let mut opts = ListOptions::default().with_limit(MAX_PAGE_SIZE);
        loop {
            let page = fetch(opts.clone()).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => opts = opts.with_cursor(c),
                None => return Ok(out),
            }
        }
    }

    /// The cursor for an id-ordered list.
    pub fn id_cursor(id: i64) -> String {
        format!("id:{id}")
    }

    /// The cursor for a key-ordered list.
    pub fn key_cursor(key: &str) -> String {
        format!("key:{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_all_follows_every_cursor_and_stops_on_errors() {
        // 2,500 ids served MAX_PAGE_SIZE at a time from the cursor the previous page returned.
        let ids: Vec<i64> = (1..=2500).collect();
        let page_of = |o: ListOptions| {
            let after = match o.cursor.as_deref() {
                None => 0,
                Some(c) => c.trim_start_matches("id:").parse::<i64>().unwrap(),
            };
            let items: Vec<i64> = ids.iter().copied().filter(|&i| i > after).collect();
            async move {
                Ok(Page::from_overfetch(items, o.effective_limit(), |&i| {
                    Page::<i64>::id_cursor(i)
                }))
            }
        };
        let all = futures::executor::block_on(Page::collect_all(page_of)).unwrap();
        assert_eq!(all, ids);
        let failing =
            |_: ListOptions| async { Err::<Page<i64>, _>(Error::invalid("cursor", "bad")) };
        assert!(futures::executor::block_on(Page::collect_all(failing)).is_err());
    }

    #[test]
    fn limit_is_defaulted_and_capped() {
        assert_eq!(ListOptions::default().effective_limit(), DEFAULT_PAGE_SIZE);
        assert_eq!(ListOptions::default().with_limit(0).effective_limit(), 1);
        assert_eq!(
            ListOptions::default().with_limit(10_000).effective_limit(),
            MAX_PAGE_SIZE
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        let o = ListOptions::default().with_cursor(Page::<()>::id_cursor(42));
        assert_eq!(o.id_cursor().unwrap(), Some(42));
        assert!(o.key_cursor().is_err());
        let bad = ListOptions::default().with_cursor("garbage");
        assert!(matches!(bad.id_cursor(), Err(Error::Invalid { .. })));
    }

    #[test]
    fn overfetch_sets_cursor_only_when_more_exist() {
        let p = Page::from_overfetch(vec![5, 4, 3], 2, |x| Page::<i32>::id_cursor(*x as i64));
        assert_eq!(p.items, vec![5, 4]);
        assert_eq!(p.next_cursor.as_deref(), Some("id:4"));
        let p = Page::from_overfetch(vec![5, 4], 2, |x| Page::<i32>::id_cursor(*x as i64));
        assert_eq!(p.next_cursor, None);
    }
}
