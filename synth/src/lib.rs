//! Synthetic cluster snapshots for benchmarks: deterministic from a seed, Bookinfo-like namespaces replicated, with known planted failures.
