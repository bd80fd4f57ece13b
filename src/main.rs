//! The `academie` binary: parses the command line, loads the configuration, sets up logging and
//! starts the chosen adapter. All behaviour lives in the library.

use academie::config::Settings;
use academie::console::Console;
use academie::domain::Lang;
use academie::text::keys;
use anyhow::{Context, Result};
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Academie voor Opgavegericht Samenwerken — the Academy for Task-Oriented Collaboration.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: academie.toml in the working directory, if present).
    #[arg(long, global = true, env = "ACADEMIE_CONFIG")]
    config: Option<PathBuf>,
    /// Language of the console: nl or en (default: academy.language from the configuration).
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the academy in this terminal, on the local database (the default without a token).
    Console,
    /// Run the academy as a Discord bot (the default when a token is configured).
    Serve,
    /// Manage the lesson library.
    Lessons {
        #[command(subcommand)]
        command: LessonsCommand,
    },
    /// Write files from the database.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Write a consistent backup of the database to one file, also while the academy runs.
    Backup {
        /// The file to write (replaced only once the new backup is complete).
        path: PathBuf,
    },
    /// Rebuild the database from a backup file; the current database is moved aside, never
    /// deleted. Refused while the academy runs.
    Restore {
        /// The backup file (default: the newest automatic backup that reads back whole).
        path: Option<PathBuf>,
    },
    /// Read the whole database and say whether it is sound: every record readable, the lesson
    /// index and the id counters right. Changes nothing; refused while the academy runs.
    Check,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// Rebuild the static site of published digests (HTML, Markdown, Atom feed); running it
    /// twice gives identical files.
    Site {
        /// Where to write it (default: the `site` folder in the export folder).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum LessonsCommand {
    /// Import lesson files (Markdown with TOML front matter); importing twice changes nothing.
    Import {
        /// The folder holding the lesson files.
        dir: PathBuf,
    },
}

/// The command line read with its help in the language of whoever runs it: `--lang` when given,
/// else the configured language (Dutch unless configured otherwise).
fn parse_cli() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let lang = help_language(&args);
    let command = match lang {
        Lang::Nl => in_dutch(Cli::command()),
        Lang::En => Cli::command(),
    };
    let matches = command
        .try_get_matches_from(args)
        .unwrap_or_else(|e| refuse_command_line(lang, e));
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| refuse_command_line(lang, e))
}

/// A command line that cannot be read: in English as clap says it; in Dutch in our words, with
/// what was not understood and where the overview is. Help and version are printed as asked.
fn refuse_command_line(lang: Lang, e: clap::Error) -> ! {
    use clap::error::{ContextKind, ErrorKind};
    if lang == Lang::En || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit()
    }
    let said = |kind| e.get(kind).map(|v| v.to_string()).unwrap_or_default();
    let what = match e.kind() {
        ErrorKind::UnknownArgument => {
            format!("{} ken ik niet", said(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidSubcommand => {
            format!(
                "de opdracht {} ken ik niet",
                said(ContextKind::InvalidSubcommand)
            )
        }
        ErrorKind::MissingRequiredArgument => {
            format!("er ontbreekt {}", said(ContextKind::InvalidArg))
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "er ontbreekt een opdracht".to_owned()
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
            if said(ContextKind::InvalidValue).is_empty() =>
        {
            format!("{} vraagt een waarde", said(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => format!(
            "{} past niet bij {}",
            said(ContextKind::InvalidValue),
            said(ContextKind::InvalidArg)
        ),
        ErrorKind::ArgumentConflict => format!("{} kan hier niet", said(ContextKind::InvalidArg)),
        ErrorKind::TooManyValues => format!("{} is hier te veel", said(ContextKind::InvalidValue)),
        _ => "de opdrachtregel klopt niet".to_owned(),
    };
    eprintln!("academie: {what}. Typ academie --help voor het overzicht.");
    std::process::exit(2)
}

/// `--lang X` or `--lang=X` as typed, else the language of the configuration `--config` (or
/// the environment) names. Read before the command line is parsed, so `--help` can follow it;
/// anything unreadable here is reported by the real parse or the configuration's own load.
fn help_language(args: &[std::ffi::OsString]) -> Lang {
    let typed = |flag: &str| -> Option<String> {
        let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
        while let Some(word) = words.next() {
            if word == flag {
                return words.next().map(str::to_owned);
            }
            if let Some(value) = word.strip_prefix(flag).and_then(|w| w.strip_prefix('=')) {
                return Some(value.to_owned());
            }
        }
        None
    };
    if let Some(lang) = typed("--lang").and_then(|l| Lang::parse_user(&l)) {
        return lang;
    }
    let config = typed("--config")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("ACADEMIE_CONFIG").map(PathBuf::from));
    Settings::load(config.as_deref(), &|k| std::env::var(k).ok()).map_or(Lang::Nl, |s| s.language)
}

/// The command line's help in Dutch. The English is in the doc comments above (clap's own
/// words included: usage, headings, the help and version flags), so both read as one language.
fn in_dutch(command: clap::Command) -> clap::Command {
    /// Usage, headings and flags of every (sub)command in Dutch, its arguments under Dutch
    /// headings; `path` is how the command is typed (`academie export site`).
    fn frame(path: &str, command: clap::Command) -> clap::Command {
        let mut usage = format!("{path} [OPTIES]");
        for a in command.get_positionals() {
            let name = a
                .get_value_names()
                .and_then(|v| v.first())
                .map_or("WAARDE".to_owned(), |v| v.to_string());
            if a.is_required_set() {
                usage.push_str(&format!(" <{name}>"));
            } else {
                usage.push_str(&format!(" [{name}]"));
            }
        }
        if command.has_subcommands() {
            usage.push_str(if command.is_subcommand_required_set() {
                " <OPDRACHT>"
            } else {
                " [OPDRACHT]"
            });
        }
        command
            .override_usage(usage)
            .help_template("{about-with-newline}\nGebruik: {usage}\n\n{all-args}{after-help}")
            .subcommand_help_heading("Opdrachten")
            .disable_help_flag(true)
            .arg(
                Arg::new("help")
                    .short('h')
                    .long("help")
                    .action(ArgAction::Help)
                    .help("Toon deze hulp"),
            )
            .mut_args(|a| {
                if a.is_positional() {
                    a.help_heading("Argumenten")
                } else {
                    a.help_heading("Opties")
                }
            })
            .mut_subcommands(|c| {
                let path = format!("{path} {}", c.get_name());
                frame(&path, c)
            })
    }
    let command = command
        .about(
            "Academie voor Opgavegericht Samenwerken: een Discord-bot en een console voor \
             opgavegericht samenwerken binnen de Nederlandse overheid",
        )
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Toon de versie"),
        )
        .mut_arg("config", |a| {
            a.value_name("BESTAND").hide_env(true).help(
                "Configuratiebestand (standaard: academie.toml in de werkmap, als dat er is) \
                 [omgeving: ACADEMIE_CONFIG]",
            )
        })
        .mut_arg("lang", |a| {
            a.value_name("TAAL")
                .help("Taal van de console: nl of en (standaard: academy.language uit de configuratie)")
        })
        .mut_subcommand("console", |c| {
            c.about("Voer de academie uit in deze terminal, op de lokale database (standaard zonder token)")
        })
        .mut_subcommand("serve", |c| {
            c.about("Voer de academie uit als Discord-bot (standaard als er een token is ingesteld)")
        })
        .mut_subcommand("lessons", |c| {
            c.about("Beheer de lessenbibliotheek").mut_subcommand("import", |c| {
                c.about(
                    "Importeer lesbestanden (Markdown met een TOML-kop); twee keer importeren \
                     verandert niets",
                )
                .mut_arg("dir", |a| a.value_name("MAP").help("De map met de lesbestanden"))
            })
        })
        .mut_subcommand("export", |c| {
            c.about("Schrijf bestanden uit de database").mut_subcommand("site", |c| {
                c.about(
                    "Bouw de statische site van de gepubliceerde digests opnieuw (HTML, \
                     Markdown, Atom-feed); twee keer geeft dezelfde bestanden",
                )
                .mut_arg("dir", |a| {
                    a.value_name("MAP")
                        .help("Waar de site komt (standaard: de map site in de exportmap)")
                })
            })
        })
        .mut_subcommand("backup", |c| {
            c.about(
                "Schrijf een consistente reservekopie van de database naar één bestand, ook \
                 terwijl de academie draait",
            )
            .mut_arg("path", |a| {
                a.value_name("BESTAND")
                    .help("Het bestand (pas vervangen als de nieuwe reservekopie compleet is)")
            })
        })
        .mut_subcommand("restore", |c| {
            c.about(
                "Bouw de database opnieuw op uit een reservekopie; de huidige database wordt \
                 opzijgezet, nooit verwijderd. Geweigerd terwijl de academie draait",
            )
            .mut_arg("path", |a| {
                a.value_name("BESTAND").help(
                    "De reservekopie (standaard: de nieuwste automatische reservekopie die \
                     heel terug te lezen is)",
                )
            })
        })
        .mut_subcommand("check", |c| {
            c.about(
                "Lees de hele database en zeg of die gezond is: elk record leesbaar, de lesindex \
                 en de id-tellers juist. Verandert niets; geweigerd terwijl de academie draait",
            )
        });
    /// clap's `help` subcommand of a command with subcommands, and of theirs, in Dutch.
    fn help_subcommands(command: clap::Command) -> clap::Command {
        let has_help = command.get_subcommands().any(|c| c.get_name() == "help");
        let command = command.mut_subcommands(|c| {
            if c.get_name() == "help" {
                c
            } else {
                help_subcommands(c)
            }
        });
        if has_help {
            command.mut_subcommand("help", |c| {
                c.about("Toon dit overzicht of de hulp bij de genoemde opdracht(en)")
            })
        } else {
            command
        }
    }
    // clap adds its `help` subcommands when the command is built: named in Dutch after that.
    let mut command = frame("academie", command);
    command.build();
    help_subcommands(command)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("academie: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    // Before anything is created: the database, its lock, backups and exports are the academy
    // user's alone, sled's own files included.
    academie::files::owner_only_from_now_on();
    let cli = parse_cli();
    let settings = Settings::load(cli.config.as_deref(), &|k| std::env::var(k).ok())?;
    let token = settings
        .discord
        .token
        .as_ref()
        .map(|t| t.expose().to_owned());
    academie::logging::init(token.into_iter().collect());
    for warning in &settings.warnings {
        eprintln!("academie: {warning}");
    }
    let lang = match &cli.lang {
        Some(l) => Lang::parse_user(l).with_context(|| {
            format!("--lang moet nl of en zijn, niet {l:?} / --lang must be nl or en, found {l:?}")
        })?,
        None => settings.language,
    };
    let command = cli.command.unwrap_or(if settings.discord.token.is_some() {
        Command::Serve
    } else {
        Command::Console
    });
    match &command {
        Command::Backup { path } => return backup(&settings, lang, path),
        Command::Restore { path } => return restore(&settings, lang, path.as_deref()),
        Command::Check => return check(&settings, lang),
        Command::Export {
            command: ExportCommand::Site { dir },
        } => return export_site(&settings, lang, dir.as_deref()),
        _ => {}
    }
    if let Command::Serve = command {
        // Checked before opening the store, so a missing token is the only message.
        let options = academie::discord::ServeOptions::from_settings(&settings)?;
        let engine = Arc::new(open_engine(&settings, lang, true)?);
        if let Some(report) = engine.seed_library_if_empty()? {
            tracing::info!(added = report.added, "loaded the starter library");
        }
        let _control = listen(&engine, &settings);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        return runtime
            .block_on(academie::discord::serve(
                engine.clone(),
                options,
                academie::discord::signals(),
            ))
            .map_err(|e| unsaved(&settings, lang, e));
    }
    let running = matches!(command, Command::Console);
    let engine = Arc::new(open_engine(&settings, lang, running)?);
    match command {
        Command::Serve
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Check
        | Command::Export { .. } => Ok(()),
        Command::Console => {
            let _control = listen(&engine, &settings);
            let stdin = std::io::stdin();
            let interactive = stdin.is_terminal();
            // Read on a thread of its own, so due work is printed while the console waits.
            let stdin = std::io::BufReader::new(stdin);
            let mut console = Console::new(
                &engine,
                settings.console_user.as_deref(),
                settings.console_role,
                lang,
                settings.export_dir.clone(),
            );
            console.run(stdin, &mut std::io::stdout(), interactive)?;
            // A last flush that fails means something is not on disk: say so, exit non-zero.
            engine.flush().map_err(|f| match f {
                academie::engine::Failure::Internal(e) => unsaved(&settings, lang, e),
                refused => anyhow::anyhow!("{refused}"),
            })
        }
        Command::Lessons {
            command: LessonsCommand::Import { dir },
        } => {
            let (count, report) = engine.import_library_folder(&dir)?;
            let text = engine.catalog().render(
                lang,
                keys::CLI_LESSONS_IMPORTED,
                &serde_json::json!({
                    "count": count,
                    "dir": dir.display().to_string(),
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                }),
            );
            println!("{text}");
            Ok(())
        }
    }
}

/// Listens for requests from a second `academie` process (a backup while this one runs). Without
/// it the academy still works, so a failure is only logged.
#[cfg(unix)]
fn listen(engine: &Arc<academie::engine::Engine>, settings: &Settings) -> Option<impl Drop> {
    match academie::control::Control::start(engine.clone(), &settings.database) {
        Ok(control) => Some(control),
        Err(e) => {
            tracing::warn!("a backup cannot be taken while this runs: {e:#}");
            None
        }
    }
}

#[cfg(not(unix))]
fn listen(_: &Arc<academie::engine::Engine>, _: &Settings) -> Option<()> {
    None
}

/// Opens the engine; a database in use, one that cannot be opened, one made by a newer version
/// and a damaged one (with the backup to restore) are said in the user's language, with the
/// system's reason once.
fn open_engine(settings: &Settings, lang: Lang, running: bool) -> Result<academie::engine::Engine> {
    let opened = if running {
        academie::open_running(settings)
    } else {
        academie::open_engine(settings)
    };
    opened.map_err(|e| {
        let said = e
            .chain()
            .find_map(|c| c.downcast_ref::<academie::store::StoreError>())
            .zip(catalog(settings).ok())
            .and_then(|(store, catalog)| store_message(settings, &catalog, lang, store));
        match said {
            Some(text) => anyhow::anyhow!(text),
            None => e,
        }
    })
}

/// One sentence in the user's language for a store that could not be opened; `None` for the
/// errors said elsewhere.
fn store_message(
    settings: &Settings,
    catalog: &academie::text::Catalog,
    lang: Lang,
    e: &academie::store::StoreError,
) -> Option<String> {
    use academie::store::StoreError as E;
    use serde_json::json;
    let at = |p: &Path| p.display().to_string();
    let (key, data) = match e {
        E::Locked { path } => (keys::CLI_DATABASE_LOCKED, json!({"database": at(path)})),
        E::Open { path, source } => (
            keys::CLI_DATABASE_OPEN_FAILED,
            json!({"database": at(path), "detail": catalog.io_error(lang, source)}),
        ),
        E::NewerSchema {
            path,
            found,
            supported,
        } => (
            keys::CLI_DATABASE_NEWER,
            json!({"database": at(path), "found": found, "supported": supported}),
        ),
        E::Corrupt { detail, .. } => {
            return Some(academie::damaged_message(settings, catalog, lang, detail))
        }
        _ => return None,
    };
    Some(catalog.render(lang, key, &data))
}

/// Writes the static site: from the database, or — while the academy runs and holds the
/// database — by the running academy, asked over its socket, as a backup is.
fn export_site(settings: &Settings, lang: Lang, dir: Option<&Path>) -> Result<()> {
    use academie::store::StoreError;
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| academie::site_dir(settings));
    let shown = dir.display().to_string();
    let (report, key, catalog) = match academie::open_engine(&for_one_pass(settings)) {
        Ok(engine) => (
            engine.export_site(&dir)?,
            keys::CLI_SITE_WRITTEN,
            catalog(settings)?,
        ),
        Err(e)
            if e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<StoreError>(),
                    Some(StoreError::Locked { .. })
                )
            }) =>
        {
            let catalog = catalog(settings)?;
            // The running academy writes from its own working directory.
            let target =
                std::path::absolute(&dir).with_context(|| format!("{shown}: not a path"))?;
            let report = running_site(&catalog, lang, settings, &target, &shown)?;
            (report, keys::CLI_SITE_WRITTEN_RUNNING, catalog)
        }
        Err(e) => return Err(e),
    };
    let text = catalog.render(
        lang,
        key,
        &serde_json::json!({
            "dir": shown,
            "written": report.written,
            "unchanged": report.unchanged,
            "removed": report.removed,
        }),
    );
    println!("{text}");
    Ok(())
}

#[cfg(unix)]
fn running_site(
    catalog: &academie::text::Catalog,
    lang: Lang,
    settings: &Settings,
    target: &Path,
    shown: &str,
) -> Result<academie::site::WriteReport> {
    let db = &settings.database;
    let say = |key: &str, data: serde_json::Value| catalog.render(lang, key, &data);
    academie::control::request_site(db, target).map_err(|e| {
        control_failure(&say, db, e, |detail| {
            say(
                keys::CLI_SITE_FAILED,
                serde_json::json!({"dir": shown, "detail": detail}),
            )
        })
    })
}

/// What the command line says when the running academy did not do what it was asked: nobody
/// answers at its socket, or `failed` says why it could not.
#[cfg(unix)]
fn control_failure(
    say: &dyn Fn(&str, serde_json::Value) -> String,
    db: &Path,
    error: academie::control::ControlError,
    failed: impl FnOnce(String) -> String,
) -> anyhow::Error {
    use academie::control::{socket_path, ControlError};
    match error {
        ControlError::Unreachable { .. } => anyhow::anyhow!(say(
            keys::CLI_BACKUP_UNREACHABLE,
            serde_json::json!({
                "database": db.display().to_string(),
                "socket": socket_path(db).display().to_string(),
            })
        )),
        ControlError::Failed(detail) => anyhow::anyhow!(failed(detail)),
    }
}

#[cfg(not(unix))]
fn running_site(
    _: &academie::text::Catalog,
    _: Lang,
    settings: &Settings,
    _: &Path,
    _: &str,
) -> Result<academie::site::WriteReport> {
    Err(academie::store::StoreError::Locked {
        path: settings.database.clone(),
    }
    .into())
}

/// A shutdown whose last flush failed, told in the user's language.
fn unsaved(settings: &Settings, lang: Lang, e: anyhow::Error) -> anyhow::Error {
    let unwritable = e.chain().find_map(|c| match c.downcast_ref() {
        Some(academie::store::StoreError::Unwritable { full, .. }) => Some(*full),
        _ => None,
    });
    match (unwritable, catalog(settings)) {
        (Some(full), Ok(catalog)) => anyhow::anyhow!(catalog.render(
            lang,
            keys::CLI_SHUTDOWN_UNSAVED,
            &serde_json::json!({"full": full}),
        )),
        _ => e,
    }
}

/// The texts, for the commands that do not open the engine.
fn catalog(settings: &Settings) -> Result<academie::text::Catalog> {
    academie::text::Catalog::load(&settings.prompts, &academie::files::LocalDisk)
        .context(academie::PROMPTS_INVALID)
}

/// The settings for a command that reads the database once through: sled's cache no larger
/// than [`academie::PASS_CACHE_BYTES`].
fn for_one_pass(settings: &Settings) -> Settings {
    Settings {
        cache_bytes: settings.cache_bytes.min(academie::PASS_CACHE_BYTES),
        ..settings.clone()
    }
}

fn backup(settings: &Settings, lang: Lang, path: &Path) -> Result<()> {
    use academie::engine::backup::BackupError;
    use academie::store::{SledStore, StoreError};
    let catalog = catalog(settings)?;
    let say = |key: &str, data: serde_json::Value| catalog.render(lang, key, &data);
    let db = &settings.database;
    let shown = path.display().to_string();
    // The running academy writes the file itself, from its own working directory.
    let target = std::path::absolute(path).with_context(|| format!("{shown}: not a path"))?;
    if !db.exists() {
        anyhow::bail!(say(
            keys::CLI_BACKUP_NO_DATABASE,
            serde_json::json!({"database": db.display().to_string()})
        ));
    }
    let (summary, key) = match SledStore::open(
        db,
        Some(settings.cache_bytes.min(academie::SCAN_CACHE_BYTES)),
    ) {
        Ok(store) => {
            let written = academie::engine::backup::write_backup(
                &academie::files::LocalDisk,
                &store,
                &target,
            );
            let summary = written.map_err(|e| match e {
                BackupError::Store(e) => anyhow::Error::from(e),
                e => anyhow::anyhow!(backup_message(&say, &e, settings)),
            })?;
            (summary, keys::CLI_BACKUP_WRITTEN)
        }
        Err(StoreError::Locked { .. }) => {
            let summary = running_backup(&say, settings, &target, &shown)?;
            (summary, keys::CLI_BACKUP_WRITTEN_RUNNING)
        }
        Err(e) => {
            return Err(match store_message(settings, &catalog, lang, &e) {
                Some(text) => anyhow::anyhow!(text),
                None => e.into(),
            })
        }
    };
    println!(
        "{}",
        say(
            key,
            serde_json::json!({
                "path": shown,
                "entries": summary.entries,
                "schema": summary.schema_version,
            })
        )
    );
    Ok(())
}

#[cfg(unix)]
fn running_backup(
    say: &dyn Fn(&str, serde_json::Value) -> String,
    settings: &Settings,
    target: &Path,
    shown: &str,
) -> Result<academie::engine::backup::BackupSummary> {
    let db = &settings.database;
    academie::control::request_backup(db, target).map_err(|e| {
        control_failure(say, db, e, |detail| {
            say(
                keys::CLI_BACKUP_FAILED,
                serde_json::json!({"path": shown, "detail": detail}),
            )
        })
    })
}

#[cfg(not(unix))]
fn running_backup(
    _: &dyn Fn(&str, serde_json::Value) -> String,
    settings: &Settings,
    _: &Path,
    _: &str,
) -> Result<academie::engine::backup::BackupSummary> {
    Err(academie::store::StoreError::Locked {
        path: settings.database.clone(),
    }
    .into())
}

fn restore(settings: &Settings, lang: Lang, path: Option<&Path>) -> Result<()> {
    let catalog = catalog(settings)?;
    let say = |key: &str, data: serde_json::Value| catalog.render(lang, key, &data);
    let newest;
    let path = match path {
        Some(path) => path,
        None => {
            newest = academie::newest_good_backup(settings).ok_or_else(|| {
                let dir = academie::store::sibling(&settings.database, "backups");
                anyhow::anyhow!(say(
                    keys::CLI_RESTORE_NO_BACKUP,
                    serde_json::json!({"dir": dir.display().to_string()})
                ))
            })?;
            newest.0.as_path()
        }
    };
    // What opening the restored database needs besides the database is checked before anything
    // changes, so that a failure to open afterwards can only be the database's own.
    if let Some(dir) = settings.templates_dir.as_deref() {
        academie::site::Templates::load(Some(dir), &academie::files::LocalDisk)
            .context(academie::TEMPLATES_INVALID)?;
    }
    let restored = academie::restore(settings, path)
        .map_err(|e| anyhow::anyhow!(backup_message(&say, &e, settings)))?;
    // Opening runs the upgrade of an older backup now, and proves the result opens. The
    // restore is done whatever happens here, so a failure says so instead of "failed".
    if let Err(e) = academie::open_engine(settings) {
        let detail = e
            .downcast_ref::<academie::store::StoreError>()
            .and_then(|store| store_message(settings, &catalog, lang, store))
            .unwrap_or_else(|| format!("{e:#}"));
        anyhow::bail!(say(
            keys::CLI_RESTORE_NOT_OPENED,
            serde_json::json!({
                "path": path.display().to_string(),
                "database": settings.database.display().to_string(),
                "previous": restored.previous.as_ref().map(|p| p.display().to_string()),
                "detail": detail,
            })
        ));
    }
    let summary = &restored.summary;
    let mut data = serde_json::json!({
        "path": path.display().to_string(),
        "created": academie::time::date_time(lang, settings.time_zone, summary.created),
        "entries": summary.entries,
        "schema": summary.schema_version,
        "database": settings.database.display().to_string(),
    });
    let key = match &restored.previous {
        Some(previous) => {
            data["previous"] = previous.display().to_string().into();
            keys::CLI_RESTORE_DONE
        }
        None => keys::CLI_RESTORE_DONE_FRESH,
    };
    println!("{}", say(key, data));
    Ok(())
}

fn check(settings: &Settings, lang: Lang) -> Result<()> {
    use academie::store::StoreError;
    let catalog = catalog(settings)?;
    let database = settings.database.display().to_string();
    let (report, schema) = match academie::check(settings) {
        Ok(found) => found,
        Err(StoreError::Locked { .. }) => anyhow::bail!(catalog.render(
            lang,
            keys::CLI_CHECK_RUNNING,
            &serde_json::json!({"database": database})
        )),
        Err(StoreError::Corrupt { detail, .. }) => {
            anyhow::bail!(academie::damaged_message(settings, &catalog, lang, &detail))
        }
        Err(e) => return Err(e.into()),
    };
    if !report.is_sound() {
        anyhow::bail!(catalog.render(
            lang,
            keys::CLI_CHECK_PROBLEMS,
            &serde_json::json!({
                "database": database,
                "count": report.problems.len(),
                "problems": report.problems.join("\n"),
            })
        ));
    }
    println!(
        "{}",
        catalog.render(
            lang,
            keys::CLI_CHECK_SOUND,
            &serde_json::json!({
                "database": database,
                "entries": report.entries,
                "lessons": report.lessons,
                "schema": schema,
            })
        )
    );
    Ok(())
}

/// One sentence in the user's language for what went wrong with a backup file or a restore.
fn backup_message(
    say: &dyn Fn(&str, serde_json::Value) -> String,
    e: &academie::engine::backup::BackupError,
    settings: &Settings,
) -> String {
    use academie::engine::backup::BackupError as E;
    use academie::store::StoreError;
    use serde_json::json;
    let at = |p: &Path| p.display().to_string();
    let database = at(&settings.database);
    match e {
        E::Write { path, source } => say(
            keys::CLI_BACKUP_FAILED,
            json!({"path": at(path), "detail": source.to_string()}),
        ),
        E::Read { path, source } => say(
            keys::CLI_BACKUP_UNREADABLE,
            json!({"path": at(path), "detail": source.to_string()}),
        ),
        E::NotABackup { path } => say(keys::CLI_BACKUP_NOT_A_BACKUP, json!({"path": at(path)})),
        E::BadLine { path, line, detail } => say(
            keys::CLI_BACKUP_BAD_LINE,
            json!({"path": at(path), "line": line, "detail": detail}),
        ),
        E::Truncated { path } => say(keys::CLI_BACKUP_TRUNCATED, json!({"path": at(path)})),
        E::LineTooLong { path, line, max } => say(
            keys::CLI_BACKUP_LINE_TOO_LONG,
            json!({"path": at(path), "line": line, "max": max}),
        ),
        E::BadRecord { path, line, tree } => say(
            keys::CLI_BACKUP_BAD_RECORD,
            json!({"path": at(path), "line": line, "tree": tree}),
        ),
        E::BadIndex { path } => say(keys::CLI_BACKUP_BAD_INDEX, json!({"path": at(path)})),
        E::Changed { path } => say(keys::CLI_BACKUP_CHANGED, json!({"path": at(path)})),
        E::NewerSchema {
            path,
            found,
            supported,
        } => say(
            keys::CLI_BACKUP_NEWER,
            json!({"path": at(path), "found": found, "supported": supported}),
        ),
        E::Store(StoreError::Locked { .. }) => {
            say(keys::CLI_RESTORE_RUNNING, json!({"database": database}))
        }
        E::Store(other) => say(
            keys::CLI_RESTORE_FAILED,
            json!({"database": database, "detail": other.to_string()}),
        ),
    }
}
