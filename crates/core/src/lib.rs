//! The academy without any platform: the domain, the storage interface and a store in memory,
//! the engine (every use case, its rules and permissions), the command table, search, the idling
//! meter, every text, the replies, Dutch time, the published views and the figures as SVG.
//!
//! What needs the machine is injected by whoever runs the engine: the store, the clock, the disk
//! (`disk::Disk`), the rasterizer (`figures::Raster`). This crate depends on no chat platform,
//! async runtime, database or renderer, and touches no file: `tests/boundaries.rs` at the top
//! of the workspace fails if it does.

pub mod commands;
pub mod disk;
pub mod domain;
pub mod engine;
pub mod figures;
pub mod meter;
pub mod postings;
pub mod reply;
pub mod search;
pub mod site;
pub mod store;
pub mod text;
pub mod time;
