//! Academie voor Opgavegericht Samenwerken — the Academy for Task-Oriented Collaboration.
//!
//! A pure core (`domain`, `engine`, `search`, `commands`, `text`, `reply`) behind one storage
//! interface (`store`), with thin adapters that translate: the local `console` and `discord`. See ARCHITECTURE.md for the map and the rules the layout depends on.

pub mod commands;
pub mod config;
pub mod console;
pub mod discord;
pub mod domain;
pub mod engine;
pub mod figures;
pub mod meter;
pub mod reply;
pub mod search;
pub mod site;
pub mod store;
pub mod text;

use std::sync::Arc;

/// Opens the store and builds the engine from validated settings: what every entry point needs.
pub fn open_engine(settings: &config::Settings) -> anyhow::Result<engine::Engine> {
    use anyhow::Context;
    let catalog =
        text::Catalog::load(&settings.prompts).context("the prompt files are not valid")?;
    // Only an edited set is compiled here; the built-in one is shared.
    let templates = match settings.templates_dir.as_deref() {
        Some(dir) => Arc::new(
            site::Templates::load(Some(dir)).context("the digest templates are not valid")?,
        ),
        None => site::Templates::shared(),
    };
    let store = store::SledStore::open(&settings.database, Some(settings.cache_bytes))?;
    let engine = engine::Engine::new(
        Arc::new(store),
        Arc::new(catalog),
        Arc::new(engine::SystemClock),
        engine::Settings {
            default_lang: settings.language,
            site_dir: settings.site.then(|| settings.export_dir.join("site")),
            holidays: settings.holidays.clone(),
            re_review_months: settings.re_review_months,
            answer_retention_days: settings.answer_retention_days,
            ..engine::Settings::default()
        },
    )
    .with_templates(templates);
    engine
        .upgrade()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "the database at {} could not be upgraded to this version; restore a backup \
                 or run the previous version",
                settings.database.display()
            )
        })?;
    Ok(engine)
}
