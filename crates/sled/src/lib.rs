//! The academy's store in sled (`store`: the core's storage interface and `SledStore`), and
//! `files`: files only for the academy's user, and the machine's disk as the engine's `Disk`.

pub mod files;
pub mod store;
