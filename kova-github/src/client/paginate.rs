//! Pagination by GitHub's `Link` header: the client follows `rel="next"` exactly as given and
//! never builds page URLs itself (GitHub's cursors and page sizes are its own business).

/// The `rel="next"` target of a `Link` header, if any.
pub fn next_link(header: &str) -> Option<&str> {
    link_with_rel(header, "next")
}

/// The target of the link with relation `rel`.
pub fn link_with_rel<'h>(header: &'h str, rel: &str) -> Option<&'h str> {
    // `<url>; rel="next", <url>; rel="last"`; URLs never contain `>`, but may contain `,`,
    // so split on `<` rather than on commas.
    header.split('<').skip(1).find_map(|part| {
        let (url, params) = part.split_once('>')?;
        // The comma before the next link belongs to neither.
        let params = params.trim_end().trim_end_matches(',');
        let matches = params.split(';').any(|p| {
            let Some((k, v)) = p.trim().split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r == rel)
        });
        matches.then_some(url.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_others() {
        // Recorded from api.github.com (octokit fixtures, paginate-issues).
        let h = r#"<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", <https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last", <https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="first""#;
        assert_eq!(
            next_link(h),
            Some("https://api.github.com/repositories/1000/issues?per_page=3&page=3")
        );
        let last = r#"<https://api.github.com/repositories/1000/issues?per_page=3&page=4>; rel="prev", <https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="first""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage"), None);
        // Cursor links (hook deliveries) and unquoted, multi-valued rel.
        assert_eq!(
            next_link("<https://x/y?cursor=a%2Cb,c>; rel=next"),
            Some("https://x/y?cursor=a%2Cb,c")
        );
        assert_eq!(
            next_link(r#"<https://x/z>; rel="last next""#),
            Some("https://x/z")
        );
    }
}
