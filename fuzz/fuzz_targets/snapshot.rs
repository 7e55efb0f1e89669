//! Any bytes as snapshot files: SnapshotSource::load never panics, and every object it indexes
//! carries the fields its JSON says and is found again by get, list (with its own labels as the
//! selector), names, kinds and, for an Event, events_for its subject.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::snapshot(data));
