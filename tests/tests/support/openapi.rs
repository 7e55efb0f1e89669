//! A small validator for the OpenAPI v3 schemas Kubernetes uses in CustomResourceDefinitions
//! (`openAPIV3Schema`), and the structural-schema rules the API server imposes on them.
//!
//! [`validate`] reports every violation with the JSON path of the value (`.spec.grants.tools[1]`):
//! `type` (integer, number, boolean, string, object, array), `properties`, `required` (a missing
//! field with a `default` is fine: the API server defaults before it validates),
//! `additionalProperties`, `items`, `enum`, `nullable`, `minimum`/`maximum`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`, `maxProperties`, `allOf`/`anyOf`/`oneOf`/`not`
//! (value validations only, as in a structural schema), and the Kubernetes extensions
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string` and
//! `x-kubernetes-embedded-resource`. `pattern` and `format` are not checked.
//!
//! Unknown fields are errors: a field that is not in `properties`, where the schema neither
//! preserves unknown fields nor has `additionalProperties`, is what the API server silently prunes —
//! which is how a misspelled field disappears. Objects at the root (and embedded resources) may
//! also carry `apiVersion`, `kind` and `metadata`, which the API server adds to every schema.

use serde_json::{Map, Value};
use std::fmt;

/// One problem, at `path` in the validated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "."
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Every violation of `schema` by `value`, `value` being a whole object (its root may carry
/// `apiVersion`, `kind` and `metadata`).
pub fn validate(schema: &Value, value: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    Walker {
        unknown_fields: true,
    }
    .walk(schema, value, "", true, &mut out);
    out
}

/// The metadata fields of a manifest (ObjectMeta fields a person writes; the server-set ones are
/// allowed too, so a `kubectl get -o yaml` copy validates).
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

struct Walker {
    /// False inside `allOf`/`anyOf`/`oneOf`/`not`: those hold value validations only.
    unknown_fields: bool,
}

fn push(out: &mut Vec<Violation>, path: &str, message: impl Into<String>) {
    out.push(Violation {
        path: path.to_string(),
        message: message.into(),
    });
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

impl Walker {
    fn walk(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        root: bool,
        out: &mut Vec<Violation>,
    ) {
        if value.is_null() {
            if !flag(schema, "nullable") {
                push(out, path, "null, but the schema is not nullable");
            }
            return;
        }
        self.logic(schema, value, path, out);
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            push(
                out,
                path,
                format!("{value} is not one of {}", Value::Array(allowed.clone())),
            );
        }
        if flag(schema, "x-kubernetes-int-or-string") {
            if !matches!(type_name(value), "integer" | "string") {
                push(
                    out,
                    path,
                    format!("expected integer or string, found {}", type_name(value)),
                );
            }
            return;
        }
        let ty = schema.get("type").and_then(Value::as_str);
        match (ty, value) {
            (Some("object"), Value::Object(map)) => self.object(schema, map, path, root, out),
            (Some("array"), Value::Array(items)) => self.array(schema, items, path, out),
            (Some("string"), Value::String(s)) => string(schema, s, path, out),
            (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => {
                number(schema, n.as_f64().unwrap_or_default(), path, out)
            }
            (Some("number"), Value::Number(n)) => {
                number(schema, n.as_f64().unwrap_or_default(), path, out)
            }
            (Some("boolean"), Value::Bool(_)) => {}
            (Some(t), v) => push(out, path, format!("expected {t}, found {}", type_name(v))),
            // No type: only allowed with preserve-unknown-fields (checked by `structural`), or in a
            // value-validation branch (`required`, `properties`). Walk what can be walked.
            (None, Value::Object(map))
                if ["properties", "required", "additionalProperties"]
                    .iter()
                    .any(|k| schema.get(k).is_some()) =>
            {
                self.object(schema, map, path, root, out)
            }
            (None, _) => {}
        }
    }

    fn logic(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<Violation>) {
        let branch = Walker {
            unknown_fields: false,
        };
        let passes = |s: &Value| {
            let mut v = Vec::new();
            branch.walk(s, value, path, false, &mut v);
            v.is_empty()
        };
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                branch.walk(s, value, path, false, out);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
            && !any.iter().any(passes)
        {
            push(out, path, "matches none of anyOf");
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let n = one.iter().filter(|s| passes(s)).count();
            if n != 1 {
                push(out, path, format!("matches {n} of oneOf, not exactly one"));
            }
        }
        if let Some(not) = schema.get("not")
            && passes(not)
        {
            push(out, path, "matches the schema under not");
        }
    }

    fn object(
        &self,
        schema: &Value,
        map: &Map<String, Value>,
        path: &str,
        root: bool,
        out: &mut Vec<Violation>,
    ) {
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
        let embedded = root || flag(schema, "x-kubernetes-embedded-resource");
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                let defaulted = props
                    .and_then(|p| p.get(name))
                    .is_some_and(|s| s.get("default").is_some());
                if !map.contains_key(name) && !defaulted {
                    push(out, &format!("{path}.{name}"), "required field is missing");
                }
            }
        }
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
            && map.len() as u64 > max
        {
            push(
                out,
                path,
                format!("{} properties, more than maxProperties {max}", map.len()),
            );
        }
        for (key, v) in map {
            let child = format!("{path}.{key}");
            // The API server owns these three at the root of every object (a schema may only
            // restrict metadata.name and metadata.generateName, and never prunes metadata).
            if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                implicit(key, v, &child, out);
            } else if let Some(s) = props.and_then(|p| p.get(key)) {
                self.walk(s, v, &child, false, out);
            } else if let Some(s) = additional.filter(|a| a.is_object()) {
                self.walk(s, v, &child, false, out);
            } else if additional == Some(&Value::Bool(true)) || preserve || !self.unknown_fields {
                // kept as is
            } else {
                push(
                    out,
                    &child,
                    "unknown field (not in the schema; the API server would prune it)",
                );
            }
        }
    }

    fn array(&self, schema: &Value, items: &[Value], path: &str, out: &mut Vec<Violation>) {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && items.len() as u64 > max
        {
            push(
                out,
                path,
                format!("{} items, more than maxItems {max}", items.len()),
            );
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            push(
                out,
                path,
                format!("{} items, fewer than minItems {min}", items.len()),
            );
        }
        if let Some(item) = schema.get("items") {
            for (i, v) in items.iter().enumerate() {
                self.walk(item, v, &format!("{path}[{i}]"), false, out);
            }
        }
    }
}

/// `apiVersion`, `kind` and `metadata` of a root or embedded object.
fn implicit(key: &str, v: &Value, path: &str, out: &mut Vec<Violation>) {
    match (key, v) {
        ("apiVersion" | "kind", Value::String(_)) => {}
        ("metadata", Value::Object(meta)) => {
            for (k, mv) in meta {
                let p = format!("{path}.{k}");
                if !OBJECT_META.contains(&k.as_str()) {
                    push(out, &p, "unknown metadata field");
                } else if matches!(k.as_str(), "labels" | "annotations") {
                    match mv.as_object() {
                        Some(m) => {
                            for (lk, lv) in m {
                                if !lv.is_string() {
                                    push(
                                        out,
                                        &format!("{p}.{lk}"),
                                        "label and annotation values are strings",
                                    );
                                }
                            }
                        }
                        None => push(out, &p, "expected object"),
                    }
                } else if matches!(k.as_str(), "name" | "namespace" | "generateName")
                    && !mv.is_string()
                {
                    push(out, &p, "expected string");
                }
            }
        }
        (_, other) => push(out, path, format!("unexpected {}", type_name(other))),
    }
}

fn string(schema: &Value, s: &str, path: &str, out: &mut Vec<Violation>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        push(
            out,
            path,
            format!("{len} characters, more than maxLength {max}"),
        );
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        push(
            out,
            path,
            format!("{len} characters, fewer than minLength {min}"),
        );
    }
}

fn number(schema: &Value, n: f64, path: &str, out: &mut Vec<Violation>) {
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMinimum");
        if n < min || (exclusive && n == min) {
            push(out, path, format!("{n} is below the minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMaximum");
        if n > max || (exclusive && n == max) {
            push(out, path, format!("{n} is above the maximum {max}"));
        }
    }
}

/// Violations of the structural-schema rules (Kubernetes "Specifying a structural schema") and of
/// the CEL cost rules of thumb, for one version's `openAPIV3Schema`:
/// - every node has a `type`, unless it preserves unknown fields or is int-or-string;
/// - no `$ref`, and no `properties` beside `additionalProperties`;
/// - `allOf`/`anyOf`/`oneOf`/`not` hold no `type`, `properties`-with-types, `default` or
///   `nullable` (value validations only);
/// - `metadata` at the root restricts only `name` and `generateName`;
/// - under every `x-kubernetes-validations`, each string is bounded (`maxLength` or `enum`) and
///   each list has `maxItems`, so the estimated rule cost stays within the API server's budget;
/// - a rule using `oldSelf` has no list ancestor other than `x-kubernetes-list-type: map`.
pub fn structural(schema: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    lint(schema, "", false, false, &mut out);
    out
}

fn lint(s: &Value, path: &str, in_logic: bool, uncorrelatable: bool, out: &mut Vec<Violation>) {
    let Some(obj) = s.as_object() else {
        push(out, path, "a schema node must be an object");
        return;
    };
    if obj.contains_key("$ref") {
        push(out, path, "$ref is not allowed in a structural schema");
    }
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    if in_logic {
        for key in [
            "type",
            "default",
            "nullable",
            "additionalProperties",
            "x-kubernetes-preserve-unknown-fields",
        ] {
            if obj.contains_key(key) {
                push(out, path, format!("{key} inside allOf/anyOf/oneOf/not"));
            }
        }
    } else if !obj.contains_key("type") && !preserve && !int_or_string {
        push(
            out,
            path,
            "no type (only allowed with x-kubernetes-preserve-unknown-fields or int-or-string)",
        );
    }
    if obj.contains_key("properties")
        && obj
            .get("additionalProperties")
            .is_some_and(Value::is_object)
    {
        push(out, path, "properties and additionalProperties together");
    }
    if let Some(rules) = obj
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        for (i, r) in rules.iter().enumerate() {
            let rule = r.get("rule").and_then(Value::as_str).unwrap_or_default();
            let p = format!("{path}.x-kubernetes-validations[{i}]");
            if rule.is_empty() {
                push(out, &p, "a validation without a rule");
            }
            if rule.contains("oldSelf") && uncorrelatable {
                push(
                    out,
                    &p,
                    "oldSelf under a list that is not x-kubernetes-list-type: map",
                );
            }
            if r.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains('\n'))
            {
                push(out, &p, "a message with a line break");
            }
        }
        bounded(s, path, out);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        if path.is_empty()
            && let Some(meta) = props.get("metadata")
        {
            let extra: Vec<_> = meta
                .get("properties")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter(|k| *k != "name" && *k != "generateName")
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if !extra.is_empty() {
                push(
                    out,
                    ".metadata",
                    format!("restricts {extra:?}; only name and generateName may be"),
                );
            }
        }
        for (k, v) in props {
            lint(v, &format!("{path}.{k}"), in_logic, uncorrelatable, out);
        }
    }
    if let Some(a) = obj.get("additionalProperties").filter(|a| a.is_object()) {
        lint(a, &format!("{path}.*"), in_logic, uncorrelatable, out);
    }
    if let Some(items) = obj.get("items") {
        let map_list = s.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map");
        lint(
            items,
            &format!("{path}[]"),
            in_logic,
            uncorrelatable || !map_list,
            out,
        );
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, b) in obj
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            lint(b, &format!("{path}.{key}[{i}]"), true, uncorrelatable, out);
        }
    }
    if let Some(n) = obj.get("not") {
        lint(n, &format!("{path}.not"), true, uncorrelatable, out);
    }
}

/// Every string under `s` has `maxLength` (or `enum`) and every list `maxItems`.
fn bounded(s: &Value, path: &str, out: &mut Vec<Violation>) {
    if flag(s, "x-kubernetes-preserve-unknown-fields") {
        return; // invisible to CEL
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") if s.get("maxLength").is_none() && s.get("enum").is_none() => {
            push(out, path, "a string a CEL rule reads has no maxLength")
        }
        Some("array") if s.get("maxItems").is_none() => {
            push(out, path, "a list a CEL rule reads has no maxItems")
        }
        _ => {}
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            bounded(v, &format!("{path}.{k}"), out);
        }
    }
    if let Some(items) = s.get("items") {
        bounded(items, &format!("{path}[]"), out);
    }
    if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
        if s.get("maxProperties").is_none() {
            push(out, path, "a map a CEL rule reads has no maxProperties");
        }
        bounded(a, &format!("{path}.*"), out);
    }
}

/// Paths (`.a.b[2].c`) at which `original` has a value that `roundtripped` lacks or changed: the
/// fields a typed deserializer dropped (unknown or misspelled) or coerced.
pub fn dropped_fields(original: &Value, roundtripped: &Value, path: &str, out: &mut Vec<String>) {
    match (original, roundtripped) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => dropped_fields(v, w, &p, out),
                    // An empty map or list and an absent one mean the same to the API server.
                    None if v.as_object().is_some_and(Map::is_empty)
                        || v.as_array().is_some_and(Vec::is_empty) => {}
                    None if v.is_null() => {}
                    None => out.push(format!("{p}: dropped (unknown or misspelled field)")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items became {}", a.len(), b.len()));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                dropped_fields(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}
