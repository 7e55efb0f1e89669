//! The JSON Schema of the LLM's answer, and a validator for exactly the subset of JSON Schema it
//! uses (`type` object/array/string, `properties`, `required`, `additionalProperties: false`,
//! `items`, `enum`; `description` is ignored). The validator walks the schema itself, so the
//! schema the provider is given and the checks the filter makes cannot drift apart.

use serde_json::{Map, Value, json};

/// Severities the answer may use, as report.md spells them.
pub(crate) const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// The schema the LLM must answer in.
///
/// Kept to the subset that Anthropic tool `input_schema`, Ollama `format` and OpenAI strict
/// `json_schema` all accept: every object lists all its properties as `required` and forbids
/// others, and there are no `minLength`/`maxItems`/`pattern` keywords (strict modes reject some
/// of them). Bounds are stated in the descriptions and enforced by the filter.
pub fn answer_schema() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    let lines = |d: &str| json!({"type": "array", "description": d, "items": {"type": "string"}});
    let resource = json!({
        "type": "object",
        "description": "A Kubernetes object from the evidence, named exactly as the evidence names it.",
        "properties": {
            "apiVersion": text("apiVersion, e.g. v1, apps/v1, configsync.gke.io/v1beta1"),
            "kind": text("Kind, e.g. Pod, Deployment, RootSync"),
            "namespace": text("Namespace; the empty string for cluster-scoped objects"),
            "name": text("metadata.name"),
        },
        "required": ["apiVersion", "kind", "namespace", "name"],
        "additionalProperties": false,
    });
    let finding = json!({
        "type": "object",
        "properties": {
            "code": text("Short lowercase identifier of the cause, words joined by '-' or '.', e.g. webhook-timeout; it is filed under llm."),
            "severity": {
                "type": "string",
                "enum": SEVERITIES,
                "description": "error: explains a user-visible failure; warning: a likely contributor or a risk; info: context",
            },
            "summary": text("One line, at most 512 characters"),
            "resources": {
                "type": "array",
                "description": "The objects the finding is about; each must appear in the evidence",
                "items": resource,
            },
            "evidence": lines("Field paths and values, event reasons and messages from the evidence; each at most 1024 characters"),
            "suggestions": lines("Fixes a person makes in Git (which manifest to change and how); never commands that change the cluster"),
        },
        "required": ["code", "severity", "summary", "resources", "evidence", "suggestions"],
        "additionalProperties": false,
    });
    json!({
        "type": "object",
        "properties": {
            "summary": text("What most likely explains the problem, in one or two sentences"),
            "findings": {
                "type": "array",
                "description": "At most 50 findings, most important first",
                "items": finding,
            },
        },
        "required": ["summary", "findings"],
        "additionalProperties": false,
    })
}

/// Checks `value` against `schema` (the subset above). The first violation, in a deterministic
/// order (required, then unknown properties sorted, then each property in key order), is returned
/// as `path: what is wrong`; values the model wrote are quoted only shortened and cleaned.
pub(crate) fn validate(value: &Value, schema: &Value, path: &str) -> Result<(), String> {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{}: expected {t}, got {}",
                at(path),
                type_name(value)
            ));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        return Err(format!(
            "{}: {} is not one of {}",
            at(path),
            shown(value),
            list.join(", ")
        ));
    }
    if let Some(obj) = value.as_object() {
        validate_object(obj, schema, path)?;
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            validate(v, items, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn validate_object(obj: &Map<String, Value>, schema: &Value, path: &str) -> Result<(), String> {
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for r in required.iter().filter_map(Value::as_str) {
        if !obj.contains_key(r) {
            return Err(format!("{}: required property missing", join(path, r)));
        }
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        // Map keys iterate sorted, so the first unknown one reported is deterministic.
        if let Some(k) = obj.keys().find(|k| !props.contains_key(k.as_str())) {
            return Err(format!(
                "{}: unknown property {}",
                at(path),
                super::sanitize::quote_untrusted(k, 40)
            ));
        }
    }
    for (k, sub) in props {
        if let Some(v) = obj.get(k) {
            validate(v, sub, &join(path, k))?;
        }
    }
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() { "value" } else { path }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => super::sanitize::quote_untrusted(s, 32),
        other => type_name(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Value {
        json!({
            "code": "webhook-timeout", "severity": "error", "summary": "s",
            "resources": [{"apiVersion": "v1", "kind": "Pod", "namespace": "ns", "name": "p"}],
            "evidence": ["e"], "suggestions": ["g"],
        })
    }

    fn check(v: &Value) -> Result<(), String> {
        validate(v, &answer_schema(), "answer")
    }

    #[test]
    fn valid_answer_passes() {
        assert_eq!(
            check(&json!({"summary": "x", "findings": [finding()]})),
            Ok(())
        );
        assert_eq!(check(&json!({"summary": "", "findings": []})), Ok(()));
    }

    #[test]
    fn schema_is_strict_everywhere() {
        // Every object forbids extra properties and requires all it lists (OpenAI strict mode).
        fn walk(s: &Value) {
            if s.get("type") == Some(&json!("object")) {
                assert_eq!(s["additionalProperties"], json!(false), "{s}");
                let props: Vec<_> = s["properties"].as_object().unwrap().keys().collect();
                let req: Vec<_> = s["required"].as_array().unwrap().iter().collect();
                assert_eq!(props.len(), req.len(), "{s}");
                for p in s["properties"].as_object().unwrap().values() {
                    walk(p);
                }
            }
            if let Some(i) = s.get("items") {
                walk(i);
            }
        }
        walk(&answer_schema());
        let sev = &answer_schema()["properties"]["findings"]["items"]["properties"]["severity"];
        assert_eq!(sev["enum"], json!(["error", "warning", "info"]));
    }

    #[test]
    fn missing_fields_are_reported() {
        assert_eq!(
            check(&json!({"summary": "x"})),
            Err("answer.findings: required property missing".into())
        );
        let mut f = finding();
        f.as_object_mut().unwrap().remove("evidence");
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err("answer.findings[0].evidence: required property missing".into())
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        assert_eq!(
            check(&json!([])),
            Err("answer: expected object, got array".into())
        );
        let mut f = finding();
        f["resources"] = json!("Pod ns/p");
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err("answer.findings[0].resources: expected array, got string".into())
        );
        let mut f = finding();
        f["evidence"] = json!(["ok", 3]);
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err("answer.findings[0].evidence[1]: expected string, got number".into())
        );
        let mut f = finding();
        f["resources"][0]["namespace"] = Value::Null;
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err("answer.findings[0].resources[0].namespace: expected string, got null".into())
        );
    }

    #[test]
    fn extra_properties_are_reported() {
        assert_eq!(
            check(&json!({"summary": "x", "findings": [], "commands": ["rm -rf /"]})),
            Err("answer: unknown property \"commands\"".into())
        );
        let mut f = finding();
        f["run"] = json!("x");
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err("answer.findings[0]: unknown property \"run\"".into())
        );
    }

    #[test]
    fn wrong_severity_is_reported() {
        let mut f = finding();
        f["severity"] = json!("critical");
        assert_eq!(
            check(&json!({"summary": "x", "findings": [f]})),
            Err(
                "answer.findings[0].severity: \"critical\" is not one of error, warning, info"
                    .into()
            )
        );
        f["severity"] = json!("Error");
        assert!(check(&json!({"summary": "x", "findings": [f]})).is_err());
    }
}
