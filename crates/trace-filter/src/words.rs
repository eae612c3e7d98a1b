//! Whole-word name matching, used by builtin-default's secret redaction (match kind `words`).
//!
//! A name is split into words at `_`, `-`, `.`, spaces, camelCase boundaries
//! (`userToken` → `user token`, `APIKey` → `api key`) and letter/digit boundaries
//! (`password2` → `password 2`); words compare ASCII-case-insensitively. A name matches when
//! its word list contains one of the pattern's word sequences contiguously: `db_password`,
//! `API-KEY`, `userToken` match `password` / `api_key` / `token`; `tokenizer`, `passage`,
//! `company_name`, `author`, `span` do not.

/// A set of word sequences, e.g. parsed from `password|api_key|session_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSequences {
    sequences: Vec<Vec<String>>,
}

/// Names with more words than this are matched on their first `MAX_WORDS` words only.
const MAX_WORDS: usize = 32;

impl WordSequences {
    /// Parses `|`-separated alternatives; each alternative is split into words like a name.
    pub fn parse(pattern: &str) -> Self {
        let sequences = pattern
            .split('|')
            .map(|alt| {
                split_words(alt)
                    .map(|w| w.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|seq| !seq.is_empty())
            .collect();
        WordSequences { sequences }
    }

    /// Whether `name` contains one of the sequences as whole words. Allocation-free.
    pub fn is_match(&self, name: &str) -> bool {
        let mut buf: [&str; MAX_WORDS] = [""; MAX_WORDS];
        let mut len = 0;
        for word in split_words(name) {
            if len == MAX_WORDS {
                break;
            }
            buf[len] = word;
            len += 1;
        }
        let words = &buf[..len];
        self.sequences.iter().any(|seq| {
            seq.len() <= words.len()
                && words.windows(seq.len()).any(|window| {
                    window
                        .iter()
                        .zip(seq)
                        .all(|(w, s)| w.eq_ignore_ascii_case(s))
                })
        })
    }
}

/// Splits an identifier into words (see the module docs), without allocating.
pub fn split_words(name: &str) -> impl Iterator<Item = &str> {
    WordSplitter { name, pos: 0 }
}

struct WordSplitter<'a> {
    name: &'a str,
    pos: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Sep,
    Lower,
    Upper,
    Digit,
}

fn class(c: char) -> Class {
    if c.is_uppercase() {
        Class::Upper
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_alphabetic() {
        Class::Lower
    } else {
        Class::Sep
    }
}

impl<'a> Iterator for WordSplitter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.name.get(self.pos..)?;
        let mut chars = rest
            .char_indices()
            .skip_while(|(_, c)| class(*c) == Class::Sep);
        let (start, first) = chars.next()?;
        let mut prev = class(first);
        let mut end = rest.len();
        let mut iter = chars.peekable();
        while let Some((i, c)) = iter.next() {
            let cur = class(c);
            let boundary = match (prev, cur) {
                (_, Class::Sep) => true,
                (Class::Lower, Class::Upper) => true,
                (Class::Digit, Class::Upper | Class::Lower) => true,
                (Class::Upper | Class::Lower, Class::Digit) => true,
                // "APIKey": the `K` starts a new word when followed by a lowercase letter.
                (Class::Upper, Class::Upper) => {
                    matches!(iter.peek(), Some((_, n)) if class(*n) == Class::Lower)
                }
                _ => false,
            };
            if boundary {
                end = i;
                break;
            }
            prev = cur;
        }
        self.pos += end;
        Some(&rest[start..end])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn words(name: &str) -> Vec<&str> {
        split_words(name).collect()
    }

    #[test]
    fn splits_identifiers() {
        assert_eq!(words("db_password"), ["db", "password"]);
        assert_eq!(words("API-KEY"), ["API", "KEY"]);
        assert_eq!(words("userToken"), ["user", "Token"]);
        assert_eq!(words("APIKey"), ["API", "Key"]);
        assert_eq!(words("__private_key__"), ["private", "key"]);
        assert_eq!(words("password2"), ["password", "2"]);
        assert_eq!(words("getHTTPResponse"), ["get", "HTTP", "Response"]);
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words("___"), Vec::<&str>::new());
        assert_eq!(words("héllo_wörld"), ["héllo", "wörld"]);
    }

    #[test]
    fn matches_whole_word_sequences() {
        let seq = WordSequences::parse("password|api_key|token|session_id");
        for name in [
            "password",
            "db_password",
            "API-KEY",
            "apiKey",
            "userToken",
            "SESSION_ID",
            "sessionId",
        ] {
            assert!(seq.is_match(name), "{name}");
        }
        for name in ["tokenizer", "passage", "api", "key_api", "session", "ids"] {
            assert!(!seq.is_match(name), "{name}");
        }
    }
}
