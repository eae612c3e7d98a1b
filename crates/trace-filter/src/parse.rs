//! TOML text → [`FilterFile`], validating every key against the SPEC §6 schema.
//!
//! Walks the spanned TOML tree (`toml::de::DeTable`) by hand instead of deriving serde, so
//! each error can name the exact key, its line and column, and what is allowed there.

use std::ops::Range;

use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::{FilterError, Location};
use crate::model::{
    ExecDirective, FilterFile, FilterMeta, FilterOrigin, ScopeRule, ValueDirective, ValuePattern,
};
use crate::selector::Selector;

type Entry<'t, 'i> = (
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
);

const TOP_KEYS: &str = "meta, scope";
const META_KEYS: &str = "name, version, description";
const SCOPE_KEYS: &str = "default_exec, default_value_action, rules";
const RULE_KEYS: &str = "selector, exec, value_default, reason, value_patterns";
const PATTERN_KEYS: &str = "selector, action";
const SCOPE_SELECTOR_ALLOWED: &str = "`kind:pattern` or `kind:match:pattern` with kind one of \
pkg, file, obj and match one of glob, regex, literal";
const VALUE_SELECTOR_ALLOWED: &str = "`kind:pattern` or `kind:match:pattern` with kind one of \
local, global, arg, ret, attr and match one of glob, regex, literal";

/// Parses and validates one filter source. `builtin` admits builtin-only selector spellings.
pub fn parse_filter(
    origin: FilterOrigin,
    text: &str,
    builtin: bool,
) -> Result<FilterFile, FilterError> {
    let ctx = Ctx {
        origin: origin.to_string(),
        text,
        builtin,
    };
    let doc = DeTable::parse(text).map_err(|e| FilterError::Toml {
        at: ctx.loc(e.span().unwrap_or(0..0)),
        message: e.message().trim().to_string(),
    })?;
    let root = doc.get_ref();
    ctx.check_keys(root, "the top level", &["meta", "scope"], TOP_KEYS)?;

    let (_, meta) = find(root, "meta").ok_or_else(|| FilterError::MissingKey {
        at: ctx.loc(0..0),
        key: "meta",
        table: "the top level (add a [meta] table with name and version)".into(),
    })?;
    let meta = ctx.parse_meta(meta)?;

    let mut file = FilterFile {
        origin,
        meta,
        default_exec: ExecDirective::Inherit,
        default_value_action: ValueDirective::Inherit,
        rules: Vec::new(),
        sha256: sha256_hex(text),
    };
    if let Some((_, scope)) = find(root, "scope") {
        let table = ctx.table(scope, "scope")?;
        ctx.check_keys(
            table,
            "[scope]",
            &["default_exec", "default_value_action", "rules"],
            SCOPE_KEYS,
        )?;
        if let Some(entry) = find(table, "default_exec") {
            file.default_exec = ctx.exec(entry, "scope.default_exec")?;
        }
        if let Some(entry) = find(table, "default_value_action") {
            file.default_value_action = ctx.value_directive(entry, "scope.default_value_action")?;
        }
        if let Some((_, rules)) = find(table, "rules") {
            for (i, rule) in ctx.array(rules, "scope.rules")?.iter().enumerate() {
                file.rules.push(ctx.parse_rule(rule, i + 1)?);
            }
        }
    }
    Ok(file)
}

/// Lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn find<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<Entry<'t, 'i>> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("{:?}", s.as_ref()),
        DeValue::Integer(i) => i.as_str().to_string(),
        DeValue::Boolean(b) => b.to_string(),
        other => format!("(a TOML {})", other.type_str()),
    }
}

struct Ctx<'a> {
    origin: String,
    text: &'a str,
    builtin: bool,
}

impl Ctx<'_> {
    fn loc(&self, span: Range<usize>) -> Location {
        Location::at(&self.origin, self.text, span.start)
    }

    fn check_keys(
        &self,
        table: &DeTable<'_>,
        table_name: &str,
        known: &[&str],
        allowed: &'static str,
    ) -> Result<(), FilterError> {
        match table
            .iter()
            .find(|(k, _)| !known.contains(&k.get_ref().as_ref()))
        {
            Some((key, _)) => Err(FilterError::UnknownKey {
                at: self.loc(key.span()),
                key: key.get_ref().to_string(),
                table: table_name.to_string(),
                allowed,
            }),
            None => Ok(()),
        }
    }

    fn invalid(&self, value: &Spanned<DeValue<'_>>, key: &str, allowed: &str) -> FilterError {
        FilterError::InvalidValue {
            at: self.loc(value.span()),
            key: key.to_string(),
            value: describe(value.get_ref()),
            allowed: allowed.to_string(),
        }
    }

    fn table<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Result<&'t DeTable<'i>, FilterError> {
        value
            .get_ref()
            .as_table()
            .ok_or_else(|| self.invalid(value, key, "a table"))
    }

    fn array<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Result<&'t [Spanned<DeValue<'i>>], FilterError> {
        match value.get_ref() {
            DeValue::Array(items) => Ok(items),
            _ => Err(self.invalid(value, key, "an array of tables ([[...]])")),
        }
    }

    fn string<'t>(
        &self,
        value: &'t Spanned<DeValue<'_>>,
        key: &str,
    ) -> Result<&'t str, FilterError> {
        value
            .get_ref()
            .as_str()
            .ok_or_else(|| self.invalid(value, key, "a string"))
    }

    fn required<'t, 'i>(
        &self,
        table: &'t DeTable<'i>,
        span: Range<usize>,
        key: &'static str,
        table_name: &str,
    ) -> Result<&'t Spanned<DeValue<'i>>, FilterError> {
        find(table, key)
            .map(|(_, v)| v)
            .ok_or_else(|| FilterError::MissingKey {
                at: self.loc(span),
                key,
                table: table_name.to_string(),
            })
    }

    fn parse_meta(&self, meta: &Spanned<DeValue<'_>>) -> Result<FilterMeta, FilterError> {
        let table = self.table(meta, "meta")?;
        self.check_keys(
            table,
            "[meta]",
            &["name", "version", "description"],
            META_KEYS,
        )?;
        let name_value = self.required(table, meta.span(), "name", "[meta]")?;
        let name = self.string(name_value, "meta.name")?;
        if name.trim().is_empty() {
            return Err(self.invalid(name_value, "meta.name", "a non-empty string"));
        }
        let version_value = self.required(table, meta.span(), "version", "[meta]")?;
        let version = version_value
            .get_ref()
            .as_integer()
            .and_then(|i| u32::from_str_radix(i.as_str(), i.radix()).ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| self.invalid(version_value, "meta.version", "an integer >= 1"))?;
        let description = match find(table, "description") {
            Some((_, v)) => Some(self.string(v, "meta.description")?.to_string()),
            None => None,
        };
        Ok(FilterMeta {
            name: name.to_string(),
            version,
            description,
        })
    }

    fn exec(&self, (_, value): Entry<'_, '_>, key: &str) -> Result<ExecDirective, FilterError> {
        value
            .get_ref()
            .as_str()
            .and_then(ExecDirective::parse)
            .ok_or_else(|| self.invalid(value, key, ExecDirective::ALLOWED))
    }

    fn value_directive(
        &self,
        (_, value): Entry<'_, '_>,
        key: &str,
    ) -> Result<ValueDirective, FilterError> {
        value
            .get_ref()
            .as_str()
            .and_then(ValueDirective::parse)
            .ok_or_else(|| self.invalid(value, key, ValueDirective::ALLOWED))
    }

    fn selector(
        &self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
        scope: bool,
    ) -> Result<Selector, FilterError> {
        let text = self.string(value, key)?;
        let allowed = if scope {
            SCOPE_SELECTOR_ALLOWED
        } else {
            VALUE_SELECTOR_ALLOWED
        };
        let err = |reason: String| FilterError::InvalidSelector {
            at: self.loc(value.span()),
            key: key.to_string(),
            selector: text.to_string(),
            reason,
            allowed,
        };
        let selector = Selector::parse(text, self.builtin).map_err(|e| err(e.to_string()))?;
        if selector.kind.is_scope() != scope {
            let wrong = if scope { "a value" } else { "a scope" };
            return Err(err(format!(
                "`{}` is {wrong} selector kind",
                selector.kind.as_str()
            )));
        }
        Ok(selector)
    }

    fn parse_rule(&self, rule: &Spanned<DeValue<'_>>, n: usize) -> Result<ScopeRule, FilterError> {
        let base = format!("scope.rules[{n}]");
        let table_name = format!("[[scope.rules]] #{n}");
        let table = self.table(rule, &base)?;
        self.check_keys(
            table,
            &table_name,
            &[
                "selector",
                "exec",
                "value_default",
                "reason",
                "value_patterns",
            ],
            RULE_KEYS,
        )?;
        let selector_value = self.required(table, rule.span(), "selector", &table_name)?;
        let selector = self.selector(selector_value, &format!("{base}.selector"), true)?;
        let exec = find(table, "exec")
            .map(|e| self.exec(e, &format!("{base}.exec")))
            .transpose()?;
        let value_default = find(table, "value_default")
            .map(|e| self.value_directive(e, &format!("{base}.value_default")))
            .transpose()?;
        let reason = find(table, "reason")
            .map(|(_, v)| {
                self.string(v, &format!("{base}.reason"))
                    .map(str::to_string)
            })
            .transpose()?;
        let mut value_patterns = Vec::new();
        if let Some((_, patterns)) = find(table, "value_patterns") {
            let key = format!("{base}.value_patterns");
            for (i, pattern) in self.array(patterns, &key)?.iter().enumerate() {
                value_patterns.push(self.parse_pattern(pattern, &format!("{key}[{}]", i + 1))?);
            }
        }
        Ok(ScopeRule {
            selector,
            exec,
            value_default,
            reason,
            value_patterns,
        })
    }

    fn parse_pattern(
        &self,
        pattern: &Spanned<DeValue<'_>>,
        base: &str,
    ) -> Result<ValuePattern, FilterError> {
        let table_name = format!("[[scope.rules.value_patterns]] `{base}`");
        let table = self.table(pattern, base)?;
        self.check_keys(table, &table_name, &["selector", "action"], PATTERN_KEYS)?;
        let selector_value = self.required(table, pattern.span(), "selector", &table_name)?;
        let selector = self.selector(selector_value, &format!("{base}.selector"), false)?;
        let action_value = self.required(table, pattern.span(), "action", &table_name)?;
        let key = format!("{base}.action");
        let action = action_value
            .get_ref()
            .as_str()
            .and_then(ValueDirective::parse)
            .and_then(ValueDirective::resolve)
            .ok_or_else(|| self.invalid(action_value, &key, ValueDirective::ALLOWED_ACTIONS))?;
        Ok(ValuePattern { selector, action })
    }
}
