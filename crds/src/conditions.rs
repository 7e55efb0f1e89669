//! Status conditions as the Kubernetes API conventions want them: a list keyed by `type`, each
//! with a CamelCase reason, a message and the generation it observed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::{Schema, SchemaGenerator, json_schema};

/// The conditions of one object, at most one per `type`.
pub type Conditions = Vec<Condition>;

/// Schema of a conditions list: `x-kubernetes-list-type: map` keyed by `type`, so server-side
/// apply merges conditions by type instead of replacing the list.
pub fn schema(generator: &mut SchemaGenerator) -> Schema {
    let item = generator.subschema_for::<Condition>();
    json_schema!({
        "type": "array",
        "items": item,
        "maxItems": 16,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
    })
}

/// Sets the condition of `type_` in `conditions`, keeping its `lastTransitionTime` when the
/// status did not change (a transition is a change of status, not of reason or message).
/// Returns true when the status changed (or the condition is new): a transition worth an Event.
pub fn set(
    conditions: &mut Conditions,
    type_: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    observed_generation: Option<i64>,
    now: Time,
) -> bool {
    let status = if status { "True" } else { "False" }.to_string();
    let message = message.into();
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            let transition = c.status != status;
            if transition {
                c.last_transition_time = now;
            }
            c.status = status;
            c.reason = reason.to_string();
            c.message = message;
            c.observed_generation = observed_generation;
            transition
        }
        None => {
            conditions.push(Condition {
                type_: type_.to_string(),
                status,
                reason: reason.to_string(),
                message,
                observed_generation,
                last_transition_time: now,
            });
            conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
            true
        }
    }
}

/// The condition of `type_`, if set.
pub fn get<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` is `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    get(conditions, type_).is_some_and(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut c = Conditions::new();
        assert!(set(&mut c, "Ready", false, "Pending", "", Some(1), at(10)));
        assert!(!set(
            &mut c,
            "Ready",
            false,
            "StillPending",
            "x",
            Some(2),
            at(20)
        ));
        assert_eq!(c[0].last_transition_time, at(10));
        assert_eq!(c[0].reason, "StillPending");
        assert!(set(&mut c, "Ready", true, "Compiled", "", Some(2), at(30)));
        assert_eq!(c[0].last_transition_time, at(30));
        assert!(is_true(&c, "Ready"));
        set(&mut c, "Accepted", true, "Valid", "", Some(2), at(30));
        assert_eq!(
            c.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
            ["Accepted", "Ready"]
        );
    }
}
