//! `detect`: a cheap yes/no on one object, without tools, for the controller's triggers.
//!
//! What it can see, from the object alone: a VirtualService with an active fault (abort or delay
//! with a non-zero share), a VirtualService destination without a host, a DestinationRule without
//! `spec.host`, or with subsets that have no name or share a name. What it cannot see: anything
//! that needs another object — missing Services, DestinationRules or subsets, pods behind a
//! subset, sidecars, or who a PeerAuthentication locks out. Those need `investigate`.

use crate::model::{DestinationRule, VirtualService};
use skillbox_guest::Object;
use std::collections::BTreeSet;

/// See the module docs.
pub fn detect(o: &Object) -> bool {
    if !o.api_version().starts_with("networking.istio.io/") {
        return false;
    }
    match o.kind() {
        "VirtualService" => {
            let vs = VirtualService::parse(o);
            !vs.faults.is_empty() || vs.dests.iter().any(|d| d.host.trim().is_empty())
        }
        "DestinationRule" => {
            let dr = DestinationRule::parse(o);
            let mut seen = BTreeSet::new();
            dr.host.trim().is_empty()
                || dr
                    .subsets
                    .iter()
                    .any(|s| s.name.is_empty() || !seen.insert(s.name.as_str()))
        }
        _ => false,
    }
}
