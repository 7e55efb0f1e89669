//! The CRD schema's size and range bounds (`maxLength`, `maxItems`, `minimum`, set lists), checked
//! on a laptop as the API server checks them. Read from the generated schema itself, so the
//! bounds written on the types and the bounds `validate` enforces cannot drift apart.

use serde_json::Value;

/// One bound a value breaks: where, and what the schema allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The field, as `spec.grants.resources[0].namespaces`.
    pub path: String,
    /// What is wrong, as "has 65 items; at most 64 are allowed".
    pub problem: String,
}

/// The first bound `value` breaks under `schema` (an OpenAPI v3 structural schema), in field
/// order (properties sorted by name, items by index), so the answer is deterministic.
pub(crate) fn first_violation(schema: &Value, value: &Value, path: &str) -> Option<Violation> {
    let broken = |problem: String| {
        Some(Violation {
            path: path.to_owned(),
            problem,
        })
    };
    match value {
        Value::String(s) => {
            // OpenAPI lengths count characters (code points), not bytes.
            let len = s.chars().count() as u64;
            if let Some(max) = uint(schema, "maxLength").filter(|max| len > *max) {
                return broken(format!(
                    "is {len} characters long; at most {max} are allowed"
                ));
            }
            if let Some(min) = uint(schema, "minLength").filter(|min| len < *min) {
                return broken(format!(
                    "is {len} characters long; at least {min} are required"
                ));
            }
        }
        Value::Number(n) => {
            let v = n.as_f64()?;
            if let Some(max) = number(schema, "maximum").filter(|max| v > *max) {
                return broken(format!("is {n}; at most {max} is allowed"));
            }
            if let Some(min) = number(schema, "minimum").filter(|min| v < *min) {
                return broken(format!("is {n}; at least {min} is required"));
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(max) = uint(schema, "maxItems").filter(|max| len > *max) {
                return broken(format!("has {len} items; at most {max} are allowed"));
            }
            if let Some(min) = uint(schema, "minItems").filter(|min| len < *min) {
                return broken(format!("has {len} items; at least {min} are required"));
            }
            if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        return broken(format!("lists {item} twice; it is a set"));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                return items.iter().enumerate().find_map(|(i, item)| {
                    first_violation(item_schema, item, &format!("{path}[{i}]"))
                });
            }
        }
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object)?;
            let mut names: Vec<&String> = fields.keys().collect();
            names.sort();
            return names.into_iter().find_map(|name| {
                let field_schema = properties.get(name)?;
                first_violation(field_schema, &fields[name], &format!("{path}.{name}"))
            });
        }
        Value::Null | Value::Bool(_) => {}
    }
    None
}

fn uint(schema: &Value, key: &str) -> Option<u64> {
    schema.get(key).and_then(Value::as_u64)
}

fn number(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 3, "minLength": 1},
                "count": {"type": "integer", "minimum": 1.0, "maximum": 10.0},
                "tags": {
                    "type": "array", "maxItems": 2, "x-kubernetes-list-type": "set",
                    "items": {"type": "string", "maxLength": 2}
                },
                "nested": {"type": "object", "properties": {
                    "list": {"type": "array", "minItems": 1, "items": {"type": "string"}}
                }}
            }
        })
    }

    fn problem(value: Value) -> Option<(String, String)> {
        first_violation(&schema(), &value, "spec").map(|v| (v.path, v.problem))
    }

    #[test]
    fn accepts_values_at_the_bounds() {
        assert_eq!(
            problem(
                json!({"name": "äbc", "count": 10, "tags": ["ab", "cd"], "nested": {"list": ["x"]}})
            ),
            None
        );
    }

    #[test]
    fn names_the_field_and_the_bound() {
        assert_eq!(
            problem(json!({"name": "abcd"})),
            Some((
                "spec.name".into(),
                "is 4 characters long; at most 3 are allowed".into()
            ))
        );
        assert_eq!(
            problem(json!({"name": ""})).unwrap().1,
            "is 0 characters long; at least 1 are required"
        );
        assert_eq!(
            problem(json!({"count": 0})).unwrap().1,
            "is 0; at least 1 is required"
        );
        assert_eq!(
            problem(json!({"tags": ["a", "b", "c"]})).unwrap().1,
            "has 3 items; at most 2 are allowed"
        );
        assert_eq!(
            problem(json!({"tags": ["a", "a"]})).unwrap().1,
            "lists \"a\" twice; it is a set"
        );
        assert_eq!(
            problem(json!({"tags": ["a", "abc"]})).unwrap().0,
            "spec.tags[1]"
        );
        assert_eq!(
            problem(json!({"nested": {"list": []}})).unwrap().0,
            "spec.nested.list"
        );
    }

    #[test]
    fn reports_fields_in_name_order() {
        assert_eq!(
            problem(json!({"name": "abcd", "count": 99})).unwrap().0,
            "spec.count"
        );
    }
}
