//! A Kubernetes object as the tools return it: JSON, with typed accessors for the fields every
//! object has and a path lookup for the rest.

use crate::ObjectRef;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// One Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    value: Value,
}

impl Object {
    /// Parses an object from JSON text; it must be a JSON object.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        Self::from_value(value).map_err(|_| {
            <serde_json::Error as serde::de::Error>::custom(
                "a Kubernetes object must be a JSON object",
            )
        })
    }

    /// Wraps a JSON value; gives it back when it is not a JSON object.
    pub fn from_value(value: Value) -> Result<Self, Value> {
        if value.is_object() {
            Ok(Self { value })
        } else {
            Err(value)
        }
    }

    /// The raw JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Deserializes the object into a typed view such as [`crate::k8s::Pod`].
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.value)
    }

    /// `apiVersion` (empty when absent).
    pub fn api_version(&self) -> &str {
        self.str_at("apiVersion").unwrap_or("")
    }

    /// `kind` (empty when absent).
    pub fn kind(&self) -> &str {
        self.str_at("kind").unwrap_or("")
    }

    /// `metadata.name` (empty when absent).
    pub fn name(&self) -> &str {
        self.str_at("metadata.name").unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.str_at("metadata.namespace")
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&str> {
        self.str_at("metadata.uid")
    }

    /// `metadata.labels` (string values only).
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.string_map("metadata.labels")
    }

    /// `metadata.annotations` (string values only).
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.string_map("metadata.annotations")
    }

    /// A reference to this object, for [`crate::Finding::resource`].
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_string(),
            kind: self.kind().to_string(),
            namespace: self.namespace().map(str::to_string),
            name: self.name().to_string(),
        }
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    pub fn display_name(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{ns}/{}", self.name()),
            None => self.name().to_string(),
        }
    }

    /// The value at a dotted path (`status.phase`, `spec.containers.0.image`); numbers index arrays.
    pub fn at(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.value;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            cur = match cur {
                Value::Object(m) => m.get(seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The string at a dotted path.
    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.at(path)?.as_str()
    }

    /// The integer at a dotted path.
    pub fn i64_at(&self, path: &str) -> Option<i64> {
        self.at(path)?.as_i64()
    }

    /// The map of strings at a dotted path; non-string values are skipped.
    pub fn string_map(&self, path: &str) -> BTreeMap<String, String> {
        match self.at(path) {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Whether any ownerReference points at `uid`.
    pub fn is_owned_by(&self, uid: &str) -> bool {
        match self.at("metadata.ownerReferences") {
            Some(Value::Array(refs)) => refs
                .iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Object {
        Object::from_json(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","uid":"u1",
            "labels":{"app":"a","n":1},"ownerReferences":[{"uid":"rs1"}]},
            "spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn paths_walk_maps_and_arrays() {
        let p = pod();
        assert_eq!(p.str_at("status.phase"), Some("Running"));
        assert_eq!(p.str_at("spec.containers.0.image"), Some("i"));
        assert_eq!(p.str_at("spec.containers.1.image"), None);
        assert_eq!(p.str_at("spec.containers.x"), None);
        assert_eq!(p.str_at("status.phase.deeper"), None);
    }

    #[test]
    fn metadata_accessors() {
        let p = pod();
        assert_eq!(p.display_name(), "ns/p");
        assert_eq!(p.labels().len(), 1, "non-string label values are skipped");
        assert!(p.is_owned_by("rs1"));
        assert!(!p.is_owned_by("rs2"));
        assert_eq!(
            p.object_ref(),
            ObjectRef::namespaced("v1", "Pod", "ns", "p")
        );
    }

    #[test]
    fn rejects_non_objects() {
        assert!(Object::from_json("[1]").is_err());
        assert!(Object::from_json("{").is_err());
    }
}
