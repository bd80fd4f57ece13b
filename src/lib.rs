//! Academie voor Opgavegericht Samenwerken — the Academy for Task-Oriented Collaboration.
//!
//! A pure core (`domain`, `engine`, `search`, `commands`, `text`, `reply`) behind one storage
//! interface (`store`), with thin adapters that translate: the local `console` and `discord`. See ARCHITECTURE.md for the map and the rules the layout depends on.

pub mod config;
pub mod console;
#[cfg(unix)]
pub mod control;
pub mod discord;
pub mod logging;
pub mod raster;

// The core and the store live in crates of their own; they are part of this library's paths.
pub use academie_core::{
    commands, disk, domain, engine, figures, meter, postings, reply, search, site, text, time,
};
pub use academie_sled::{files, store};

use std::sync::Arc;

/// Every program linking this library (the binary, its tests and benches) allocates with
/// mimalloc: why, and what it changed, in `Cargo.toml` and `docs/PERFORMANCE.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `engine` on this machine: files on its disk, figures drawn as PNG.
pub fn local(engine: engine::Engine) -> engine::Engine {
    engine
        .with_disk(Arc::new(files::LocalDisk))
        .with_raster(Arc::new(raster::Resvg))
}

/// sled's cache for a pass that reads the database once through (`export site`), if the
/// configured one is larger. A pass over more records than the cache holds finds nothing of it
/// in the cache (the least recently read goes first, which is the next one read), so a larger
/// cache only holds memory (measured in `docs/PERFORMANCE.md`).
pub const PASS_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// sled's cache for a backup, which reads every record once in key order: each of sled's pages
/// is read whole once and never again, so the cache only holds what the scan passed. At
/// 100,000 lessons a backup took the same time with 1, 2 and 8 MB, and 20 MB less memory with
/// 2 MB than with 8 (`docs/PERFORMANCE.md`).
pub const SCAN_CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// Opens the store and builds the engine from validated settings: what every entry point needs.
pub fn open_engine(settings: &config::Settings) -> anyhow::Result<engine::Engine> {
    open_engine_with(settings, false)
}

/// [`open_engine`] for the academy that runs (the bot, the console), which backs itself up:
/// when an automatic backup is due, it is taken first (see [`open_store_backed_up`]). A
/// restore, an export or an import takes none.
pub fn open_running(settings: &config::Settings) -> anyhow::Result<engine::Engine> {
    open_engine_with(settings, true)
}

/// Said when the configured texts cannot be read, so no text of them can say it: in Dutch, then
/// in English, as the configuration's own errors.
pub const PROMPTS_INVALID: &str =
    "de tekstbestanden (prompts) kloppen niet / the prompt files are not valid";
/// As [`PROMPTS_INVALID`], for the configured digest templates.
pub const TEMPLATES_INVALID: &str =
    "de digestsjablonen kloppen niet / the digest templates are not valid";

fn open_engine_with(settings: &config::Settings, running: bool) -> anyhow::Result<engine::Engine> {
    use anyhow::Context;
    let catalog =
        text::Catalog::load(&settings.prompts, &files::LocalDisk).context(PROMPTS_INVALID)?;
    // Only an edited set is compiled here; the built-in one is shared.
    let templates = match settings.templates_dir.as_deref() {
        Some(dir) => Arc::new(
            site::Templates::load(Some(dir), &files::LocalDisk).context(TEMPLATES_INVALID)?,
        ),
        None => site::Templates::shared(),
    };
    let clock: Arc<dyn engine::Clock> = match settings.test_clock_speed {
        Some(speed) => Arc::new(engine::FastClock::starting_now(speed)),
        None => Arc::new(engine::SystemClock),
    };
    let store = if running {
        open_store_backed_up(settings, clock.now())?
    } else {
        store::SledStore::open(&settings.database, Some(settings.cache_bytes))?
    };
    let engine = local(engine::Engine::new(
        Arc::new(store),
        Arc::new(catalog),
        clock,
        engine::Settings {
            default_lang: settings.language,
            site_dir: settings.site.then(|| site_dir(settings)),
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
            export_dir: Some(settings.export_dir.clone()),
            erasures_dir: Some(store::sibling(&settings.database, "erasing")),
            backups: backup_policy(settings),
            ..engine::Settings::default()
        },
    ))
    .with_templates(templates);
    engine
        .upgrade()
        .map_err(engine::Failure::into_error)
        .with_context(|| {
            format!(
                "the database at {} could not be upgraded to this version; restore a backup \
                 or run the previous version",
                settings.database.display()
            )
        })?;
    // Before anything changes the database: the site as the last clean end left it.
    engine.adopt_site();
    // A "delete my data" that was confirmed but not finished (the academy stopped half-way)
    // is finished before anyone is served.
    engine.finish_erasures();
    Ok(engine)
}

/// Opens the configured database with its cache. When an automatic backup is due, it is taken
/// first, through a cache no larger than a pass needs, so the academy's cache does not start
/// full of what the backup read (at 100,000 lessons, 60 MB of the first console's memory of
/// the day). It is taken before an older database is upgraded, so it holds the database as
/// the previous version left it. A backup that fails here is logged, and taken by the running
/// academy's upkeep.
fn open_store_backed_up(
    settings: &config::Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<store::SledStore> {
    let cache = Some(settings.cache_bytes);
    // A new database has nothing to back up yet; the running academy backs it up.
    let due = backup_policy(settings).filter(|policy| {
        settings.database.exists()
            && settings.cache_bytes > SCAN_CACHE_BYTES
            && engine::backup::due(&files::LocalDisk, policy, now)
    });
    let Some(policy) = due else {
        return Ok(store::SledStore::open(&settings.database, cache)?);
    };
    let store = store::SledStore::open(&settings.database, Some(SCAN_CACHE_BYTES))?;
    if let Err(e) =
        engine::backup::automatic_before_opening(&files::LocalDisk, &store, &policy, now)
    {
        tracing::error!("the automatic backup failed: {e}");
    }
    Ok(store.with_cache(cache)?)
}

/// Where the published site is written: `site` in the export folder.
pub fn site_dir(settings: &config::Settings) -> std::path::PathBuf {
    settings.export_dir.join("site")
}

/// Where and how the configured database is backed up automatically; none when switched off.
pub fn backup_policy(settings: &config::Settings) -> Option<engine::backup::Policy> {
    (settings.backups > 0).then(|| engine::backup::Policy {
        dir: store::sibling(&settings.database, "backups"),
        keep: settings.backups as usize,
        every: settings.backup_interval,
    })
}

/// The newest automatic backup of the configured database that reads back whole.
pub fn newest_good_backup(
    settings: &config::Settings,
) -> Option<(std::path::PathBuf, engine::backup::BackupSummary)> {
    engine::backup::newest_good(
        &files::LocalDisk,
        &store::sibling(&settings.database, "backups"),
    )
}

/// One sentence, in `lang`, for a database refused because it is damaged: what happened, that
/// nothing was changed, and which backup to restore.
pub fn damaged_message(
    settings: &config::Settings,
    catalog: &text::Catalog,
    lang: domain::Lang,
    detail: &str,
) -> String {
    let database = settings.database.display().to_string();
    match newest_good_backup(settings) {
        Some((path, summary)) => catalog.render(
            lang,
            text::keys::CLI_DATABASE_DAMAGED,
            &serde_json::json!({
                "database": database,
                "detail": detail,
                "backup": path.display().to_string(),
                "created": summary.created.format("%Y-%m-%d %H:%M UTC").to_string(),
            }),
        ),
        None => catalog.render(
            lang,
            text::keys::CLI_DATABASE_DAMAGED_NO_BACKUP,
            &serde_json::json!({"database": database, "detail": detail}),
        ),
    }
}

/// Reads the whole configured database, on a copy, without changing it: the store's own
/// checks, then every record (see [`engine::check`]). A database in an older schema is
/// checked as the upgrade at its next opening will leave it. Returns the report and the schema
/// version found; refused while the academy runs on it.
pub fn check(
    settings: &config::Settings,
) -> Result<(engine::check::CheckReport, u32), store::StoreError> {
    use store::Store;
    store::SledStore::inspect(&settings.database, Some(settings.cache_bytes), |db| {
        let schema = store::schema_version(db)?;
        if schema == 0 || schema >= store::SCHEMA_VERSION {
            return Ok((engine::check::check_store(db)?, schema));
        }
        let copy = Arc::new(store::MemoryStore::default());
        for (tree, entries) in db.snapshot()? {
            let mut batch = store::Batch::new();
            for (key, value) in entries {
                batch.put(tree, key, value);
            }
            copy.apply(batch)?;
        }
        let catalog =
            text::Catalog::embedded().map_err(|e| store::StoreError::Io(e.to_string()))?;
        let upgraded = engine::Engine::new(
            copy.clone(),
            Arc::new(catalog),
            Arc::new(engine::SystemClock),
            engine::Settings::default(),
        )
        .upgrade();
        if let Err(e) = upgraded {
            return Ok((
                engine::check::CheckReport {
                    problems: vec![format!("it cannot be upgraded from schema {schema}: {e}")],
                    ..Default::default()
                },
                schema,
            ));
        }
        Ok((engine::check::check_store(copy.as_ref())?, schema))
    })?
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
    // Checked whole before anything else happens, so a damaged file changes nothing.
    engine::backup::check_backup(&files::LocalDisk, from)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    // A second restore within the same second gets a name of its own, not a refusal after the
    // restored copy was built.
    let aside = (1..)
        .map(|n| match n {
            1 => format!("{}{stamp}", store::SET_ASIDE),
            n => format!("{}{stamp}-{n}", store::SET_ASIDE),
        })
        .map(|suffix| store::sibling(&settings.database, &suffix))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or_default();
    // The site was written from the database being replaced: the next start writes it whole.
    // Gone before the database is, or the restore does not happen.
    let state = site_dir(settings).join(engine::SITE_STATE_FILE);
    match std::fs::remove_file(&state) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(engine::backup::BackupError::Write {
                path: state,
                source: e,
            })
        }
        _ => {}
    }
    // Read again entry by entry into the copy being built, which a failure throws away.
    let mut restored = None;
    let replaced = store::SledStore::replace(
        &settings.database,
        Some(settings.cache_bytes),
        &aside,
        |fresh| match engine::backup::restore_backup(&files::LocalDisk, from, fresh) {
            Ok(summary) => {
                restored = Some(Ok(summary));
                Ok(())
            }
            Err(e) => {
                let told = store::StoreError::Io(e.to_string());
                restored = Some(Err(e));
                Err(told)
            }
        },
    );
    // The backup's own refusal says more than the store's wrapping of it.
    let summary = match restored {
        Some(Err(e)) => return Err(e),
        Some(Ok(summary)) => summary,
        None => {
            replaced?;
            return Err(store::StoreError::Io("the restored copy was not filled".into()).into());
        }
    };
    let had_one = replaced?;
    Ok(Restored {
        summary,
        previous: had_one.then_some(aside),
    })
}
