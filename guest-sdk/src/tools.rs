//! The read-only tools a skill calls. In a component each function is a host import; natively
//! (unit tests) it is answered by the [`ToolBackend`] installed with [`set_backend`], usually a
//! [`crate::testing::Fixture`].
//!
//! Every function you call becomes an import of your component, and the host refuses a component
//! whose imports are not granted by its Skill manifest: call only what you declare.

use crate::k8s::Event;
use crate::{Object, ObjectRef, ToolError};

/// Reads one object. `kind` is a kind (`Pod`), a plural (`pods`) or `kind.group`
/// (`Deployment.apps`), case-insensitive.
pub fn get_object(kind: &str, namespace: Option<&str>, name: &str) -> Result<Object, ToolError> {
    let text = imp::get_object(kind, namespace, name)?;
    parse(&text)
}

/// Lists objects of a kind, in one namespace or (with `None`) every namespace the skill may read,
/// filtered by a label selector in kubectl syntax (empty selects all).
pub fn list_objects(
    kind: &str,
    namespace: Option<&str>,
    label_selector: &str,
) -> Result<Vec<Object>, ToolError> {
    imp::list_objects(kind, namespace, label_selector)?
        .iter()
        .map(|t| parse(t))
        .collect()
}

/// Lists the Events about an object, both `v1` and `events.k8s.io/v1`.
pub fn list_events(involved: &ObjectRef) -> Result<Vec<Event>, ToolError> {
    imp::list_events(involved)?
        .iter()
        .map(|t| {
            parse(t)?
                .typed::<Event>()
                .map_err(|e| ToolError::Malformed(e.to_string()))
        })
        .collect()
}

/// Reads up to the last `tail_lines` lines of a container's log; the host may cap it further.
pub fn read_logs(
    namespace: &str,
    pod: &str,
    container: &str,
    tail_lines: u32,
) -> Result<String, ToolError> {
    imp::read_logs(namespace, pod, container, tail_lines)
}

fn parse(text: &str) -> Result<Object, ToolError> {
    Object::from_json(text).map_err(|e| ToolError::Malformed(e.to_string()))
}

/// Answers tool calls outside wasm: implemented by [`crate::testing::Fixture`], and by hosts that
/// run skill logic natively (benchmarks). Answers are JSON text, exactly what crosses the
/// component boundary.
#[cfg(not(target_arch = "wasm32"))]
pub trait ToolBackend {
    /// See [`get_object`].
    fn get_object(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ToolError>;
    /// See [`list_objects`].
    fn list_objects(
        &self,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<String>, ToolError>;
    /// See [`list_events`].
    fn list_events(&self, involved: &ObjectRef) -> Result<Vec<String>, ToolError>;
    /// See [`read_logs`].
    fn read_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
    ) -> Result<String, ToolError>;
}

#[cfg(not(target_arch = "wasm32"))]
pub use imp::{clear_backend, set_backend};

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::ToolBackend;
    use crate::{ObjectRef, ToolError};
    use std::cell::RefCell;
    use std::rc::Rc;

    thread_local! {
        static BACKEND: RefCell<Option<Rc<dyn ToolBackend>>> = const { RefCell::new(None) };
    }

    /// Installs the backend that answers this thread's tool calls.
    pub fn set_backend(backend: Rc<dyn ToolBackend>) {
        BACKEND.with(|b| *b.borrow_mut() = Some(backend));
    }

    /// Removes this thread's backend; tool calls then answer `unavailable`.
    pub fn clear_backend() {
        BACKEND.with(|b| *b.borrow_mut() = None);
    }

    fn with<T>(f: impl FnOnce(&dyn ToolBackend) -> Result<T, ToolError>) -> Result<T, ToolError> {
        let backend = BACKEND.with(|b| b.borrow().clone());
        match backend {
            Some(b) => f(&*b),
            None => Err(ToolError::Unavailable(
                "no tool backend installed on this thread (use skillbox_guest::testing::Fixture)"
                    .into(),
            )),
        }
    }

    pub fn get_object(kind: &str, ns: Option<&str>, name: &str) -> Result<String, ToolError> {
        with(|b| b.get_object(kind, ns, name))
    }
    pub fn list_objects(kind: &str, ns: Option<&str>, sel: &str) -> Result<Vec<String>, ToolError> {
        with(|b| b.list_objects(kind, ns, sel))
    }
    pub fn list_events(involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        with(|b| b.list_events(involved))
    }
    pub fn read_logs(ns: &str, pod: &str, c: &str, tail: u32) -> Result<String, ToolError> {
        with(|b| b.read_logs(ns, pod, c, tail))
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::wit::skillbox::skill as w;
    use crate::{ObjectRef, ToolError};

    pub fn get_object(kind: &str, ns: Option<&str>, name: &str) -> Result<String, ToolError> {
        w::get_object::get_object(kind, ns, name).map_err(Into::into)
    }
    pub fn list_objects(kind: &str, ns: Option<&str>, sel: &str) -> Result<Vec<String>, ToolError> {
        w::list_objects::list_objects(kind, ns, sel).map_err(Into::into)
    }
    pub fn list_events(involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        let r = w::types::ObjectRef::from(involved.clone());
        w::list_events::list_events(&r).map_err(Into::into)
    }
    pub fn read_logs(ns: &str, pod: &str, c: &str, tail: u32) -> Result<String, ToolError> {
        w::read_logs::read_logs(ns, pod, c, tail).map_err(Into::into)
    }
}
