//! Repository name patterns: shell-style globs (`kova-ai-*`), matched case-insensitively as
//! GitHub compares names.

use crate::error::{Error, Result};

/// A compiled repository name pattern.
///
/// `*` matches any run of characters, `?` one character, `[abc]`, `[a-z]` and `[!a-z]` a set,
/// and `\` escapes the next character. A pattern without any of these is a *prefix* (the
/// original `kova_repos_config.json` wrote `"kova-ai-"` and meant every name starting with it);
/// write the full name followed by nothing else as `[k]ova-ai` to force an exact match.
///
/// ```
/// use kova_core::config::NamePattern;
/// let p = NamePattern::new("kova-ai-*").unwrap();
/// assert!(p.matches("kova-ai-docengine"));
/// assert!(p.matches("Kova-AI-mem0"));
/// assert!(!p.matches("kova-website"));
/// assert!(NamePattern::new("kova-ai-").unwrap().matches("kova-ai-site"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    source: String,
    tokens: Vec<Token>,
    prefix_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyRun,
    AnyOne,
    Set {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl NamePattern {
    /// Compiles a pattern; an empty pattern or an unclosed `[` is an error.
    pub fn new(pattern: &str) -> Result<Self> {
        if pattern.is_empty() {
            return Err(Error::invalid("repo_name_pattern", "must not be empty"));
        }
        let mut tokens = Vec::new();
        let mut has_meta = false;
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    has_meta = true;
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun);
                    }
                }
                '?' => {
                    has_meta = true;
                    tokens.push(Token::AnyOne);
                }
                '\\' => {
                    has_meta = true;
                    let next = chars.next().ok_or_else(|| {
                        Error::invalid("repo_name_pattern", "ends with an unfinished '\\' escape")
                    })?;
                    tokens.push(Token::Literal(lower(next)));
                }
                '[' => {
                    has_meta = true;
                    let negated = chars.next_if(|&c| c == '!' || c == '^').is_some();
                    let mut items = Vec::new();
                    let mut closed = false;
                    let mut first = true;
                    while let Some(c) = chars.next() {
                        if c == ']' && !first {
                            closed = true;
                            break;
                        }
                        first = false;
                        let lo = lower(c);
                        if chars.peek() == Some(&'-') {
                            chars.next();
                            match chars.next() {
                                Some(']') => {
                                    items.push((lo, lo));
                                    items.push(('-', '-'));
                                    closed = true;
                                    break;
                                }
                                Some(hi) => items.push((lo, lower(hi))),
                                None => break,
                            }
                        } else {
                            items.push((lo, lo));
                        }
                    }
                    if !closed {
                        return Err(Error::invalid(
                            "repo_name_pattern",
                            "has a '[' without a closing ']'",
                        ));
                    }
                    tokens.push(Token::Set { negated, items });
                }
                c => tokens.push(Token::Literal(lower(c))),
            }
        }
        Ok(NamePattern {
            source: pattern.to_string(),
            tokens,
            prefix_only: !has_meta,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether a repository name matches.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().map(lower).collect();
        if self.prefix_only {
            return self.tokens.len() <= name.len()
                && self
                    .tokens
                    .iter()
                    .zip(&name)
                    .all(|(t, c)| t == &Token::Literal(*c));
        }
        match_tokens(&self.tokens, &name)
    }
}

fn lower(c: char) -> char {
    c.to_ascii_lowercase()
}

/// Iterative glob match with single-star backtracking: linear in practice, never exponential.
fn match_tokens(tokens: &[Token], name: &[char]) -> bool {
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(t) {
            Some(Token::AnyRun) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            Some(tok) if one_matches(tok, name[n]) => {
                t += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((st, sn)) => {
                t = st + 1;
                n = sn + 1;
                star = Some((st, sn + 1));
            }
            None => return false,
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::AnyRun)
}

fn one_matches(tok: &Token, c: char) -> bool {
    match tok {
        Token::Literal(l) => *l == c,
        Token::AnyOne => true,
        Token::Set { negated, items } => {
            items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::AnyRun => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        NamePattern::new(p).unwrap().matches(s)
    }

    #[test]
    fn glob_semantics() {
        assert!(m("kova-ai-*", "kova-ai-docengine"));
        assert!(!m("kova-ai-*", "kova-website"));
        assert!(
            !m("kova-ai-*", "my-kova-ai-x"),
            "a glob is anchored, not a substring"
        );
        assert!(m("*-site", "kovaos-site"));
        assert!(m("k?va*", "kova"));
        assert!(m("kova-[a-c]*", "kova-b1"));
        assert!(!m("kova-[!a-c]*", "kova-b1"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m(r"a\*", "a*"));
        assert!(!m(r"a\*", "ab"));
        assert!(m("[k]ova", "kova") && !m("[k]ova", "kovax"));
    }

    #[test]
    fn plain_text_is_a_prefix_for_compatibility() {
        assert!(m("kova-ai-", "kova-ai-mem0"));
        assert!(m("kova-ai-", "Kova-AI-site"));
        assert!(!m("kova-ai-", "kova-website"));
        assert!(!m("kova-ai-", "kova-ai"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(NamePattern::new("").is_err());
        assert!(NamePattern::new("kova-[ab").is_err());
        assert!(NamePattern::new("kova\\").is_err());
    }

    #[test]
    fn many_stars_stay_fast() {
        let p = NamePattern::new("*a*a*a*a*a*a*a*b").unwrap();
        assert!(!p.matches(&"a".repeat(100)));
    }
}
