//! Why a reconcile failed. Each variant is a failure the controller handles differently: API
//! errors are retried with backoff, the rest are written into the object's conditions.

/// A reconcile error; the error policy requeues the object with backoff.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The API server refused or failed a request (409 conflict, 5xx, timeouts…).
    #[error("{action} {object}: {source}")]
    Kube {
        /// What was being done (`patch status of`, `get`, …).
        action: &'static str,
        /// The object, `kind namespace/name`.
        object: String,
        /// kube's error.
        #[source]
        source: Box<kube::Error>,
    },
    /// An object could not be turned into JSON for a patch.
    #[error("cannot serialize the status of {object}: {source}")]
    Serialize {
        /// The object.
        object: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// The investigation's worker thread died (a bug, not input).
    #[error("the investigation of {object} did not finish: {message}")]
    Worker {
        /// The object.
        object: String,
        /// What tokio said.
        message: String,
    },
    /// The controller could not start.
    #[error("cannot start the controller: {0}")]
    Startup(String),
}

impl OperatorError {
    /// A kube error about `object`.
    pub fn kube(action: &'static str, object: impl Into<String>, source: kube::Error) -> Self {
        Self::Kube {
            action,
            object: object.into(),
            source: Box::new(source),
        }
    }
}
