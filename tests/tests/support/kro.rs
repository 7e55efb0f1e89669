//! Just enough of kro to check a ResourceGraphDefinition offline: SimpleSchema to OpenAPI, the
//! `${…}` expressions in a value and the identifiers they start from, and a renderer for the
//! simple expressions a template uses (`${schema.spec.a}`, `${id.metadata.name}`, optional
//! selection `.?x` with `.orValue(literal)`, `==`/`!=` and `&&` for `includeWhen`).
//! Anything else is left alone and reported as unrendered, never guessed.

use serde_json::{Map, Value, json};

/// The markers SimpleSchema knows (website/docs/api/specifications/simple-schema.md).
const MARKERS: &[&str] = &[
    "required",
    "default",
    "description",
    "enum",
    "minimum",
    "maximum",
    "immutable",
    "pattern",
    "minLength",
    "maxLength",
    "uniqueItems",
    "minItems",
    "maxItems",
    "listType",
    "listMapKey",
];

/// The OpenAPI schema kro generates for a SimpleSchema object (`spec:` of `schema`), or the
/// problems that stop it.
pub fn simple_schema(fields: &Value, path: &str) -> Result<Value, Vec<String>> {
    let mut errors = Vec::new();
    let schema = object(fields, path, &mut errors);
    if errors.is_empty() {
        Ok(schema)
    } else {
        Err(errors)
    }
}

fn object(fields: &Value, path: &str, errors: &mut Vec<String>) -> Value {
    let Some(map) = fields.as_object() else {
        errors.push(format!("{path}: expected a map of fields"));
        return json!({"type": "object"});
    };
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, spec) in map {
        let p = format!("{path}.{name}");
        let field = match spec {
            Value::String(s) => field(s, &p, errors, &mut required, name),
            Value::Object(_) => object(spec, &p, errors),
            other => {
                errors.push(format!(
                    "{p}: a field is a type string or a nested map, not {other}"
                ));
                continue;
            }
        };
        props.insert(name.clone(), field);
    }
    let mut schema = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn field(
    spec: &str,
    path: &str,
    errors: &mut Vec<String>,
    required: &mut Vec<String>,
    name: &str,
) -> Value {
    let (ty, markers) = spec.split_once('|').unwrap_or((spec, ""));
    let mut schema = match base_type(ty.trim()) {
        Some(s) => s,
        None => {
            errors.push(format!("{path}: unknown type {:?}", ty.trim()));
            return json!({});
        }
    };
    let scalar = schema["type"].as_str().unwrap_or_default().to_string();
    for (key, raw) in markers_of(markers) {
        if !MARKERS.contains(&key.as_str()) {
            errors.push(format!("{path}: unknown marker {key:?}"));
            continue;
        }
        let typed = |raw: &str| -> Value {
            match scalar.as_str() {
                "integer" => raw.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
                "number" => raw.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
                "boolean" => raw.parse::<bool>().map(Value::from).unwrap_or(Value::Null),
                _ => Value::String(raw.to_string()),
            }
        };
        match key.as_str() {
            "required" if raw == "true" => required.push(name.to_string()),
            "default" => {
                let v = typed(&raw);
                if v.is_null() {
                    errors.push(format!("{path}: default {raw:?} is not a {scalar}"));
                }
                schema["default"] = v;
            }
            "enum" => {
                let values: Vec<Value> = raw.split(',').map(|v| typed(v.trim())).collect();
                if values.iter().any(Value::is_null) {
                    errors.push(format!(
                        "{path}: enum {raw:?} has a value that is not a {scalar}"
                    ));
                }
                schema["enum"] = Value::Array(values);
            }
            "minimum" | "maximum" => match raw.parse::<f64>() {
                Ok(n) => schema[key.as_str()] = json!(n),
                Err(_) => errors.push(format!("{path}: {key} {raw:?} is not a number")),
            },
            "minLength" | "maxLength" | "minItems" | "maxItems" => match raw.parse::<u64>() {
                Ok(n) => schema[key.as_str()] = json!(n),
                Err(_) => errors.push(format!("{path}: {key} {raw:?} is not a count")),
            },
            "description" => schema["description"] = json!(raw),
            _ => {}
        }
    }
    if let (Some(d), Some(e)) = (
        schema.get("default"),
        schema.get("enum").and_then(Value::as_array),
    ) && !e.contains(d)
    {
        errors.push(format!("{path}: default {d} is not in enum {e:?}"));
    }
    schema
}

fn base_type(ty: &str) -> Option<Value> {
    let ty = ty.trim_matches('"');
    Some(match ty {
        "string" => json!({"type": "string"}),
        "integer" => json!({"type": "integer"}),
        "boolean" => json!({"type": "boolean"}),
        "float" => json!({"type": "number"}),
        "object" => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        _ => {
            if let Some(item) = ty.strip_prefix("[]") {
                json!({"type": "array", "items": base_type(item)?})
            } else if let Some(value) = ty.strip_prefix("map[string]") {
                json!({"type": "object", "additionalProperties": base_type(value)?})
            } else {
                return None;
            }
        }
    })
}

/// `key=value` pairs of a marker string; values may be double-quoted (with `\"` inside).
fn markers_of(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect();
            }
        }
        out.push((key, value));
    }
    out
}

/// Every `${…}` expression in the strings of `v`, with the path of the string.
pub fn expressions(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => {
            for e in split_template(s).into_iter().filter_map(|p| p.err()) {
                out.push((path.to_string(), e));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                expressions(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                expressions(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// A string cut into literal text (`Ok`) and `${…}` expressions (`Err`, without the `${ }`).
fn split_template(s: &str) -> Vec<Result<String, String>> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Ok(rest[..start].to_string()));
        }
        let body = &rest[start + 2..];
        let (mut depth, mut quote, mut end) = (0usize, None, None);
        for (i, c) in body.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '{') => depth += 1,
                (None, '}') if depth == 0 => {
                    end = Some(i);
                    break;
                }
                (None, '}') => depth -= 1,
                _ => {}
            }
        }
        match end {
            Some(i) => {
                parts.push(Err(body[..i].trim().to_string()));
                rest = &body[i + 1..];
            }
            None => {
                parts.push(Ok(rest[start..].to_string()));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        parts.push(Ok(rest.to_string()));
    }
    parts
}

/// The free identifiers an expression starts from (`schema`, resource ids), without CEL's
/// keywords, function names and comprehension variables.
pub fn roots(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut idents: Vec<(String, bool, bool)> = Vec::new(); // (name, after a dot, before a paren)
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let mut back = start;
            while back > 0 && (chars[back - 1] == '?' || chars[back - 1].is_whitespace()) {
                back -= 1;
            }
            let after_dot = back > 0 && chars[back - 1] == '.';
            let mut fwd = i;
            while fwd < chars.len() && chars[fwd].is_whitespace() {
                fwd += 1;
            }
            let before_paren = fwd < chars.len() && chars[fwd] == '(';
            idents.push((name, after_dot, before_paren));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    // Comprehension variables: the first argument of all/exists/exists_one/map/filter.
    let macros = ["all", "exists", "exists_one", "map", "filter"];
    let bound: Vec<String> = idents
        .windows(2)
        .filter(|w| w[0].1 && w[0].2 && macros.contains(&w[0].0.as_str()))
        .map(|w| w[1].0.clone())
        .collect();
    let keywords = [
        "true", "false", "null", "in", "has", "size", "string", "int", "double", "type",
    ];
    let mut out: Vec<String> = idents
        .into_iter()
        .filter(|(n, dot, paren)| {
            !dot && !paren && !keywords.contains(&n.as_str()) && !bound.contains(n)
        })
        .map(|(n, ..)| n)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Values the renderer resolves identifiers against: `schema` is the instance (with defaults),
/// every other key a rendered resource.
pub type Scope = Map<String, Value>;

/// `v` with every expression the renderer understands replaced; the others stay `${…}`.
pub fn render(v: &Value, scope: &Scope) -> Value {
    match v {
        Value::String(s) => {
            let parts = split_template(s);
            if let [Err(e)] = parts.as_slice() {
                return eval(e, scope).unwrap_or_else(|| v.clone());
            }
            let mut out = String::new();
            for p in parts {
                match p {
                    Ok(text) => out.push_str(&text),
                    Err(e) => match eval(&e, scope) {
                        Some(Value::String(s)) => out.push_str(&s),
                        Some(n @ (Value::Number(_) | Value::Bool(_))) => {
                            out.push_str(&n.to_string())
                        }
                        _ => {
                            out.push_str("${");
                            out.push_str(&e);
                            out.push('}');
                        }
                    },
                }
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| render(x, scope)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), render(x, scope)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Evaluates `a.b.?c.orValue(lit)`, literals, `==`, `!=` and `&&`; `None` for anything else.
pub fn eval(expr: &str, scope: &Scope) -> Option<Value> {
    let expr = expr.trim();
    if let Some((l, r)) = split_top(expr, "&&") {
        let (l, r) = (eval(l, scope)?, eval(r, scope)?);
        return Some(Value::Bool(l.as_bool()? && r.as_bool()?));
    }
    for (op, eq) in [("!=", false), ("==", true)] {
        if let Some((l, r)) = split_top(expr, op) {
            let (l, r) = (eval(l, scope)?, eval(r, scope)?);
            return Some(Value::Bool((l == r) == eq));
        }
    }
    if let Some(lit) = literal(expr) {
        return Some(lit);
    }
    let (path, fallback) = match expr
        .strip_suffix(')')
        .and_then(|e| e.rsplit_once(".orValue("))
    {
        Some((p, lit)) => (p, Some(literal(lit.trim())?)),
        None => (expr, None),
    };
    let mut segments = path.split('.');
    let mut cur = scope.get(segments.next()?.trim())?;
    for seg in segments {
        let seg = seg.trim().trim_start_matches('?');
        if seg.is_empty() || !seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        match cur.get(seg) {
            Some(next) => cur = next,
            None => return fallback,
        }
    }
    Some(cur.clone())
}

/// `expr` split at the first `op` outside quotes and parentheses.
fn split_top<'a>(expr: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let (mut depth, mut quote) = (0i32, None);
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, _) if depth == 0 && expr[i..].starts_with(op) => {
                return Some((&expr[..i], &expr[i + op.len()..]));
            }
            _ => {}
        }
    }
    None
}

fn literal(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(Value::String(inner.to_string()));
    }
    if s.starts_with('"')
        || s.starts_with('[')
        || s.starts_with('{')
        || s == "true"
        || s == "false"
        || s == "null"
    {
        return serde_json::from_str(s).ok();
    }
    if s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-')
    {
        return serde_json::from_str(s).ok();
    }
    None
}
