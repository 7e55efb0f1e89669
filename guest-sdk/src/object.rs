//! A Kubernetes object as the tools return it: JSON, with typed accessors for the fields every
//! object has and a path lookup for the rest.

use crate::ObjectRef;
use crate::fields::TopLevel;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One Kubernetes object.
///
/// NB: parsing is lazy. The JSON text the host sent is kept; `typed()` deserializes straight from
/// it (skipping fields the view does not name, without allocating them), the metadata accessors
/// parse only the object's head, and the full `serde_json::Value` is built on the first `at()` /
/// `value()`. Sandboxed skills pay fuel per instruction, and building a `Value` of a 10 KB Pod
/// costs most of what a typical skill does.
#[derive(Clone)]
pub struct Object {
    text: Option<Rc<str>>,
    value: OnceCell<Value>,
    head: OnceCell<Head>,
    fields: TopLevel,
}

/// `apiVersion`, `kind` and the usual `metadata` fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Head {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    metadata: HeadMeta,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct HeadMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    labels: Option<Value>,
    annotations: Option<Value>,
    #[serde(rename = "ownerReferences")]
    owner_references: Option<Value>,
    #[serde(rename = "deletionTimestamp")]
    deletion_timestamp: Option<Value>,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(t) => f.debug_tuple("Object").field(&&**t).finish(),
            None => f.debug_tuple("Object").field(self.value()).finish(),
        }
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Object {
    /// Keeps the JSON text of an object for lazy parsing. Only the outer braces are checked here:
    /// the host's answers are JSON it serialized itself, and text that is malformed inside reads
    /// as absent fields rather than an error.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let t = text.trim();
        if !(t.starts_with('{') && t.ends_with('}')) {
            // Let serde_json say what is wrong when it is not JSON at all.
            serde_json::from_str::<IgnoredAny>(t)?;
            return Err(<serde_json::Error as serde::de::Error>::custom(
                "a Kubernetes object must be a JSON object",
            ));
        }
        Ok(Self {
            text: Some(Rc::from(t)),
            value: OnceCell::new(),
            head: OnceCell::new(),
            fields: TopLevel::default(),
        })
    }

    /// Wraps a JSON value; gives it back when it is not a JSON object.
    pub fn from_value(value: Value) -> Result<Self, Value> {
        if value.is_object() {
            Ok(Self {
                text: None,
                value: OnceCell::from(value),
                head: OnceCell::new(),
                fields: TopLevel::default(),
            })
        } else {
            Err(value)
        }
    }

    /// The raw JSON (parsed in full on first use).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.text {
            // NB: `from_json` validated the text; Null is unreachable in practice.
            Some(t) => serde_json::from_str(t).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }

    /// Whether `needle` occurs anywhere in the object's JSON text (keys, values, escapes as
    /// written): a cheap test before parsing, e.g. "can this rule name that host at all?".
    /// Without text (an object built from a value), it serializes the value first.
    pub fn mentions(&self, needle: &str) -> bool {
        match &self.text {
            Some(t) => memchr::memmem::find(t.as_bytes(), needle.as_bytes()).is_some(),
            None => self.value().to_string().contains(needle),
        }
    }

    /// The JSON text, as the host sent it (or serialized from the value).
    pub fn to_json(&self) -> String {
        match &self.text {
            Some(t) => t.to_string(),
            None => self.value().to_string(),
        }
    }

    fn head(&self) -> &Head {
        self.head.get_or_init(|| match &self.text {
            // NB: each scan stops at its field, and kubectl and the host write these three
            // first, so a large spec or status is not even scanned.
            Some(t) => Head {
                api_version: self.find_part(t, "apiVersion"),
                kind: self.find_part(t, "kind"),
                metadata: self.find_part(t, "metadata").unwrap_or_default(),
            },
            None => Head::deserialize(self.value()).unwrap_or_default(),
        })
    }

    /// Deserializes the object into a typed view such as [`crate::k8s::Pod`], straight from the
    /// JSON text when there is one.
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.text {
            Some(t) => serde_json::from_str(t),
            None => T::deserialize(self.value()),
        }
    }

    /// One top-level field (`spec`, `status`) as a typed view, or `None` when it is absent or
    /// does not fit `T`. Cheaper than [`Object::typed`] on the whole object and lenient per part:
    /// an odd `status` does not lose the `spec`.
    pub fn part<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        match &self.text {
            Some(t) => self.find_part(t, key),
            None => T::deserialize(self.value().get(key)?).ok(),
        }
    }

    /// One top-level field of the text, deserialized as `T` from its own slice; the fields
    /// before it are skipped by a byte scan, the ones after it not read at all. `None` when the
    /// field is absent or does not fit `T` (the error stays with this field).
    fn find_part<T: DeserializeOwned>(&self, text: &str, key: &str) -> Option<T> {
        serde_json::from_str(self.fields.value(text, key)?).ok()
    }

    /// `metadata.ownerReferences`, typed (empty when absent or malformed).
    pub fn owner_references(&self) -> Vec<crate::k8s::OwnerReference> {
        self.head()
            .metadata
            .owner_references
            .as_ref()
            .and_then(|v| Vec::deserialize(v).ok())
            .unwrap_or_default()
    }

    /// `metadata.deletionTimestamp`: set while the object is being deleted.
    pub fn deletion_timestamp(&self) -> Option<&str> {
        self.head().metadata.deletion_timestamp.as_ref()?.as_str()
    }

    /// `apiVersion` (empty when absent).
    pub fn api_version(&self) -> &str {
        self.head().api_version.as_deref().unwrap_or("")
    }

    /// `kind` (empty when absent).
    pub fn kind(&self) -> &str {
        self.head().kind.as_deref().unwrap_or("")
    }

    /// `metadata.name` (empty when absent).
    pub fn name(&self) -> &str {
        self.head().metadata.name.as_deref().unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.head().metadata.namespace.as_deref()
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&str> {
        self.head().metadata.uid.as_deref()
    }

    /// `metadata.labels` (string values only).
    pub fn labels(&self) -> BTreeMap<String, String> {
        strings(self.head().metadata.labels.as_ref())
    }

    /// `metadata.annotations` (string values only).
    pub fn annotations(&self) -> BTreeMap<String, String> {
        strings(self.head().metadata.annotations.as_ref())
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
        let mut cur = self.value();
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
        match &self.head().metadata.owner_references {
            Some(Value::Array(refs)) => refs
                .iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)),
            _ => false,
        }
    }
}

fn strings(map: Option<&Value>) -> BTreeMap<String, String> {
    map.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
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
    fn mentions_searches_the_text_or_the_value() {
        let p = pod();
        assert!(p.mentions("\"image\":\"i\""));
        assert!(p.mentions("Running"));
        assert!(!p.mentions("Pending"));
        let v = Object::from_value(serde_json::json!({"kind": "Pod", "x": "needle"})).unwrap();
        assert!(v.mentions("needle") && !v.mentions("haystack"));
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
    fn lazy_and_eager_objects_agree() {
        let lazy = pod();
        let eager = Object::from_value(lazy.value().clone()).unwrap();
        assert_eq!(lazy, eager);
        for o in [&lazy, &eager] {
            assert_eq!(o.name(), "p");
            assert_eq!(o.uid(), Some("u1"));
            assert_eq!(o.labels().get("app").map(String::as_str), Some("a"));
        }
        #[derive(serde::Deserialize)]
        struct Phase {
            status: std::collections::BTreeMap<String, String>,
        }
        let a: Phase = lazy.typed().unwrap();
        let b: Phase = eager.typed().unwrap();
        assert_eq!(a.status, b.status);
    }

    #[test]
    fn odd_metadata_does_not_break_the_head() {
        let o =
            Object::from_json(r#"{"kind":"Pod","metadata":{"name":"p","labels":["x"]}}"#).unwrap();
        assert_eq!(o.kind(), "Pod");
        assert_eq!(o.name(), "p", "malformed labels do not hide the rest");
        assert!(o.labels().is_empty());
    }

    #[test]
    fn parts_are_read_alone_and_leniently() {
        #[derive(serde::Deserialize)]
        struct Phase {
            phase: String,
        }
        let o = Object::from_json(
            r#"{"spec":{"containers":"odd"},"status":{"phase":"Running"},"metadata":{"name":"p","deletionTimestamp":"t","ownerReferences":[{"uid":"u","kind":"ReplicaSet","name":"rs"}]}}"#,
        )
        .unwrap();
        assert_eq!(o.part::<Phase>("status").unwrap().phase, "Running");
        assert!(o.part::<Phase>("spec").is_none());
        assert!(o.part::<Phase>("absent").is_none());
        assert_eq!(o.deletion_timestamp(), Some("t"));
        assert_eq!(o.owner_references()[0].name, "rs");
        let eager = Object::from_value(o.value().clone()).unwrap();
        assert_eq!(eager.part::<Phase>("status").unwrap().phase, "Running");
        assert!(eager.is_owned_by("u"));
    }

    #[test]
    fn rejects_non_objects() {
        assert!(Object::from_json("[1]").is_err());
        assert!(Object::from_json("{").is_err());
    }
}
