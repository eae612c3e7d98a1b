//! [`redact_argv`]: the program's arguments as a trace may store them (`trace_metadata.json`),
//! with the values of secret-named options replaced by [`REDACTED_MARKER`].
//!
//! An option is secret-named when its name (without leading dashes) matches builtin-default's
//! secret words ([`crate::builtin::SECRET_WORDS`], the [`crate::words`] rule):
//! `--password=S3CR3T` → `--password=<redacted>`, `--api-key S3CR3T` → `--api-key <redacted>`
//! (the next argument, unless it is an option itself), `TOKEN=S3CR3T` → `TOKEN=<redacted>`.
//! The flag always stays. A secret passed positionally or behind a short flag (`-p S3CR3T`)
//! cannot be recognised by name and is kept.

use std::sync::OnceLock;

use crate::builtin::SECRET_WORDS;
use crate::model::REDACTED_MARKER;
use crate::words::WordSequences;

fn secrets() -> &'static WordSequences {
    static WORDS: OnceLock<WordSequences> = OnceLock::new();
    WORDS.get_or_init(|| WordSequences::parse(SECRET_WORDS))
}

/// Whether `arg` names a secret-named option (`--password`, `-api-key`): the value follows.
fn is_secret_flag(arg: &str) -> bool {
    arg.starts_with('-') && !arg.contains('=') && {
        let name = arg.trim_start_matches('-');
        name.len() > 1 && secrets().is_match(name)
    }
}

/// `args` with the value of every secret-named option replaced by `<redacted>`.
pub fn redact_argv(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if std::mem::take(&mut hide_next) && !arg.starts_with('-') {
            out.push(REDACTED_MARKER.to_owned());
            continue;
        }
        if let Some((name, _)) = arg.split_once('=') {
            if secrets().is_match(name.trim_start_matches('-')) {
                out.push(format!("{name}={REDACTED_MARKER}"));
                continue;
            }
        }
        hide_next = is_secret_flag(arg);
        out.push(arg.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(args: &[&str]) -> Vec<String> {
        redact_argv(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn secret_option_values_are_redacted_the_flags_stay() {
        assert_eq!(
            redact(&[
                "--password=S3CR3T",
                "--token",
                "S3CR3T",
                "--max-tokens",
                "100",
                "API_KEY=S3CR3T",
                "-db-password",
                "S3CR3T",
                "input.txt",
            ]),
            [
                "--password=<redacted>",
                "--token",
                "<redacted>",
                "--max-tokens",
                "100",
                "API_KEY=<redacted>",
                "-db-password",
                "<redacted>",
                "input.txt",
            ]
        );
    }

    #[test]
    fn other_arguments_are_kept() {
        // `--token` followed by an option hides nothing; `-p` cannot be recognised.
        let plain = [
            "--verbose",
            "--token",
            "--other",
            "x=1",
            "-p",
            "S3CR3T",
            "tokenizer=bpe",
            "-",
        ];
        assert_eq!(redact(&plain), plain);
        assert!(redact(&[]).is_empty());
    }
}
