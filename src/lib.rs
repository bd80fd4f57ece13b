//! Academie voor Opgavegericht Samenwerken — the Academy for Task-Oriented Collaboration.
//!
//! A pure core (`domain`, `engine`, `search`, `commands`, `text`, `reply`) behind one storage
//! interface (`store`), with thin adapters that translate: the local `console` and `discord`. See ARCHITECTURE.md for the map and the rules the layout depends on.

pub mod commands;
pub mod config;
pub mod console;
#[cfg(unix)]
pub mod control;
pub mod discord;
pub mod domain;
pub mod engine;
pub mod figures;
pub mod files;
pub mod logging;
pub mod meter;
pub mod postings;
pub mod reply;
pub mod search;
pub mod site;
pub mod store;
pub mod text;
pub mod time;

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
        match settings.test_clock_speed {
            Some(speed) => Arc::new(engine::FastClock::starting_now(speed)),
            None => Arc::new(engine::SystemClock),
        },
        engine::Settings {
            default_lang: settings.language,
            site_dir: settings.site.then(|| settings.export_dir.join("site")),
            holidays: settings.holidays.clone(),
            time_zone: settings.time_zone,
            re_review_months: settings.re_review_months,
            answer_retention_days: settings.answer_retention_days,
            open_servers: settings
                .discord
                .exchange_servers
                .iter()
                .map(|s| domain::ServerId(*s))
                .collect(),
            questions_channel: settings.discord.questions_channel.map(domain::ChannelId),
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

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub summary: engine::backup::BackupSummary,
    /// Where the database that was replaced now is; `None` if there was none.
    pub previous: Option<std::path::PathBuf>,
}

/// Rebuilds the configured database from a backup file: the whole file is checked first, the
/// new database is built beside the current one, and the current one is moved aside (never
/// deleted). Refused while the academy runs on it. An older backup is upgraded by the next
/// [`open_engine`].
pub fn restore(
    settings: &config::Settings,
    from: &std::path::Path,
) -> Result<Restored, engine::backup::BackupError> {
    let backup = engine::backup::read_backup(from)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    // A second restore within the same second gets a name of its own, not a refusal after the
    // restored copy was built.
    let aside = (1..)
        .map(|n| match n {
            1 => format!("before-restore-{stamp}"),
            n => format!("before-restore-{stamp}-{n}"),
        })
        .map(|suffix| store::sibling(&settings.database, &suffix))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or_default();
    let had_one = store::SledStore::replace(
        &settings.database,
        Some(settings.cache_bytes),
        &aside,
        |fresh| engine::backup::load_backup(fresh, &backup),
    )?;
    Ok(Restored {
        summary: backup.summary,
        previous: had_one.then_some(aside),
    })
}
