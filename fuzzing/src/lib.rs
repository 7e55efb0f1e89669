//! The properties skillbox's fuzz targets check (`fuzz/`), one function per target, so the same
//! code runs under libFuzzer and, on stable, over the checked-in corpora (`tests/corpus.rs`).
