//! The integration tests as one binary: each file under `tests/` is a module of it, so the suite
//! compiles and links the library, serenity and sled once instead of once per file.
//!
//! `cargo test --test it engine::` runs one module; the module names are the file names.

// Each bench brings its own copy of the bench support (and the end-to-end bench the fake
// Discord), as it does in its own binary under `cargo bench`; here they share one binary.
#![allow(clippy::duplicate_mod)]

mod binary;
mod support;

mod backup;
mod benches;
mod boundaries;
mod console;
mod crash;
mod damage;
mod discord;
mod engine;
mod erasure;
mod exchange;
mod fake_discord;
mod faults;
mod full_disk;
mod hostile;
mod outbox;
mod privacy;
mod properties;
mod site;
mod streaming;
