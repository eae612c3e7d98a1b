//! Whole-word name matching, used by builtin-default's secret redaction (match kind `words`).
//!
//! A name is split into words at `_`, `-`, `.`, spaces, camelCase boundaries
//! (`userToken` → `user token`, `APIKey` → `api key`) and letter/digit boundaries
//! (`password2` → `password 2`); words compare ASCII-case-insensitively.
//!
//! **The rule, in one sentence:** a name matches when it *ends* with one of the pattern's word
//! sequences — ignoring trailing numbers and words that only say how the value is held
//! ([`FORM_WORDS`]: `_value`, `_str`, `_bytes`, `_b64`, `_input`, `_confirmation`, …) —
//! unless that sequence is a plural following a counting word ([`COUNT_WORDS`]: `max`, `num`,
//! `total`, …). The last word of an identifier says what the value *is*: `db_password`,
//! `userToken`, `API_KEY`, `password2`, `password_confirmation`, `auth_tokens` are secrets;
//! `token_count` (a count), `cookie_cutter` (a cutter), `tokenizer` (one other word),
//! `max_tokens` and `num_tokens` (numbers of tokens) are not. Names of any length are matched
//! (only their last words matter).

/// Words after a secret that only say how it is held: the value is still the secret.
pub const FORM_WORDS: &[&str] = &[
    "value",
    "str",
    "string",
    "text",
    "bytes",
    "raw",
    "plain",
    "plaintext",
    "b64",
    "base64",
    "hex",
    "encoded",
    "input",
    "confirm",
    "confirmation",
    "header",
];

/// Words before a plural that make it a number of things (`max_tokens`), not the things.
pub const COUNT_WORDS: &[&str] = &["max", "min", "num", "n", "nb", "number", "count", "total"];

/// The last words of a name kept for matching (more than any sequence plus its count word).
const WINDOW: usize = 16;

/// One alternative: its words, lower case, and whether it is the plural of another one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sequence {
    words: Vec<String>,
    plural: bool,
}

/// A set of word sequences, e.g. parsed from `password|api_key|session_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSequences {
    sequences: Vec<Sequence>,
}

impl WordSequences {
    /// Parses `|`-separated alternatives; each alternative is split into words like a name.
    /// An alternative whose last word is another one's plus `s` (`tokens`, `api_keys`) is a
    /// plural.
    pub fn parse(pattern: &str) -> Self {
        let words: Vec<Vec<String>> = pattern
            .split('|')
            .map(|alt| {
                split_words(alt)
                    .map(|w| w.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|seq| !seq.is_empty())
            .collect();
        let sequences = words
            .iter()
            .map(|seq| {
                let plural = seq
                    .last()
                    .and_then(|w| w.strip_suffix('s'))
                    .is_some_and(|stem| {
                        words.iter().any(|other| {
                            other.len() == seq.len()
                                && other[..other.len() - 1] == seq[..seq.len() - 1]
                                && other.last().is_some_and(|w| w == stem)
                        })
                    });
                Sequence {
                    words: seq.clone(),
                    plural,
                }
            })
            .collect();
        WordSequences { sequences }
    }

    /// Whether `name` ends with one of the sequences (see the module docs). Allocation-free.
    pub fn is_match(&self, name: &str) -> bool {
        // The last WINDOW words, in a ring.
        let mut ring: [&str; WINDOW] = [""; WINDOW];
        let mut count = 0usize;
        for word in split_words(name) {
            ring[count % WINDOW] = word;
            count += 1;
        }
        let kept = count.min(WINDOW);
        let word_at = |i: usize| ring[(count - kept + i) % WINDOW];
        // Drop trailing numbers and form words.
        let mut end = kept;
        while end > 0 {
            let w = word_at(end - 1);
            let is_number = w.chars().all(char::is_numeric);
            if !is_number && !FORM_WORDS.iter().any(|f| w.eq_ignore_ascii_case(f)) {
                break;
            }
            end -= 1;
        }
        self.sequences.iter().any(|seq| {
            let n = seq.words.len();
            if n > end {
                return false;
            }
            let start = end - n;
            let ends_with = (0..n).all(|i| word_at(start + i).eq_ignore_ascii_case(&seq.words[i]));
            if !ends_with {
                return false;
            }
            if seq.plural && start > 0 {
                let mut before = start - 1;
                if word_at(before).eq_ignore_ascii_case("of") && before > 0 {
                    before -= 1;
                }
                let counted = word_at(before);
                return !COUNT_WORDS.iter().any(|c| counted.eq_ignore_ascii_case(c));
            }
            true
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
    fn matches_names_that_end_with_a_sequence() {
        let seq = WordSequences::parse("password|api_key|token|tokens|session_id|cookie");
        for name in [
            "password",
            "db_password",
            "API-KEY",
            "apiKey",
            "X-Api-Key",
            "userToken",
            "SESSION_ID",
            "sessionId",
            "password2",
            "password_confirmation",
            "token_value",
            "auth_header_token",
            "tokens",
            "auth_tokens",
            "Set-Cookie",
        ] {
            assert!(seq.is_match(name), "{name}");
        }
        for name in [
            "tokenizer",
            "passage",
            "api",
            "key_api",
            "session",
            "ids",
            "token_count",
            "cookie_cutter",
            "max_tokens",
            "num_tokens",
            "number_of_tokens",
            "password_strength",
        ] {
            assert!(!seq.is_match(name), "{name}");
        }
    }

    #[test]
    fn only_the_last_words_matter_however_long_the_name() {
        let seq = WordSequences::parse("password");
        let long = format!("{}_password", vec!["word"; 60].join("_"));
        assert!(seq.is_match(&long));
        let buried = format!("password_{}", vec!["word"; 60].join("_"));
        assert!(!seq.is_match(&buried));
        assert!(!seq.is_match(""));
        assert!(!seq.is_match("2"));
        assert!(!seq.is_match("value"));
    }

    #[test]
    fn plurals_are_the_alternatives_ending_in_s_of_another() {
        let seq = WordSequences::parse("token|tokens|credentials|api_key|api_keys");
        let plural: Vec<bool> = seq.sequences.iter().map(|s| s.plural).collect();
        assert_eq!(plural, [false, true, false, false, true]);
        assert!(
            seq.is_match("max_credentials"),
            "no singular listed: not a plural"
        );
        assert!(!seq.is_match("max_api_keys"));
    }
}
