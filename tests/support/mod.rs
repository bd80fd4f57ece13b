//! Test support shared by the integration tests that run the real serenity client against an
//! in-process fake Discord.
// Each test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod academy;
pub mod disk;
pub mod fake_discord;
pub mod spec;
pub mod text;

// Not every test binary goes through the re-export.
#[allow(unused_imports)]
pub use fake_discord::*;
