//! The one error type of this crate, [`PolicyError`].
//!
//! Every variant maps to the stable code
//! [`ERR_INVALID_POLICY_VALUE`] ([`PolicyError::code`]) and its message
//! names what was wrong (the variable or field), the offending value and what is accepted, so a
//! user can fix it without reading the source. The message does not repeat the code: whoever
//! shows the error adds it once (`codetracer: error[CODE]: message`).

use crate::error_codes::ERR_INVALID_POLICY_VALUE;

/// An invalid policy value, field name or `CODETRACER_*` variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A `CODETRACER_*` environment variable holds a value that is not accepted.
    #[error("environment variable {variable}={value:?} is invalid; accepted: {accepted}")]
    InvalidEnv {
        /// The variable's name, e.g. `CODETRACER_LOG_LEVEL`.
        variable: String,
        /// The rejected value, as given (lossily converted to UTF-8 if needed).
        value: String,
        /// A human-readable description of the accepted values.
        accepted: String,
    },
    /// A policy field (CLI flag, API argument, typed update) holds a value that is not accepted.
    #[error("invalid value {value:?} for policy field `{field}`; accepted: {accepted}")]
    InvalidValue {
        /// The policy field's name, e.g. `io_capture`.
        field: String,
        /// The rejected value, as given.
        value: String,
        /// A human-readable description of the accepted values.
        accepted: String,
    },
    /// A field name that the policy does not have (e.g. a typo in `configure_policy(**fields)`).
    #[error("unknown policy field `{name}`; known fields: {known}")]
    UnknownField {
        /// The unknown name, as given.
        name: String,
        /// The known field names, comma-separated.
        known: String,
    },
}

impl PolicyError {
    /// The stable error code of this error: always `"ERR_INVALID_POLICY_VALUE"`.
    pub fn code(&self) -> &'static str {
        ERR_INVALID_POLICY_VALUE
    }

    /// Re-labels an [`InvalidValue`](Self::InvalidValue) error as coming from the environment
    /// variable `variable` (keeping the original, untrimmed `raw` value); other variants are
    /// returned unchanged.
    pub(crate) fn into_env(self, variable: &str, raw: &str) -> Self {
        match self {
            Self::InvalidValue { accepted, .. } => Self::InvalidEnv {
                variable: variable.to_owned(),
                value: raw.to_owned(),
                accepted,
            },
            other => other,
        }
    }

    /// Builds an [`InvalidValue`](Self::InvalidValue) error.
    pub(crate) fn invalid(field: &str, value: impl Into<String>, accepted: &str) -> Self {
        Self::InvalidValue {
            field: field.to_owned(),
            value: value.into(),
            accepted: accepted.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_culprit_and_the_accepted_values_not_the_code() {
        let err = PolicyError::InvalidEnv {
            variable: "CODETRACER_LOG_LEVEL".into(),
            value: "loud".into(),
            accepted: "off, error, warn".into(),
        };
        let msg = err.to_string();
        assert!(
            !msg.contains("ERR_"),
            "the code is added by whoever shows it: {msg}"
        );
        assert!(msg.contains("CODETRACER_LOG_LEVEL"), "{msg}");
        assert!(msg.contains("\"loud\""), "{msg}");
        assert!(msg.contains("off, error, warn"), "{msg}");
        assert_eq!(err.code(), "ERR_INVALID_POLICY_VALUE");
    }

    #[test]
    fn into_env_relabels_only_invalid_values() {
        let err = PolicyError::invalid("log_level", "loud", "x")
            .into_env("CODETRACER_LOG_LEVEL", " loud");
        assert_eq!(
            err,
            PolicyError::InvalidEnv {
                variable: "CODETRACER_LOG_LEVEL".into(),
                value: " loud".into(),
                accepted: "x".into()
            }
        );
        let unknown = PolicyError::UnknownField {
            name: "a".into(),
            known: "b".into(),
        };
        assert_eq!(unknown.clone().into_env("V", "v"), unknown);
        assert_eq!(unknown.code(), "ERR_INVALID_POLICY_VALUE");
        assert!(unknown.to_string().contains("known fields: b"));
    }
}
