//! Helpers to start the real tillbridge binary for tests.
