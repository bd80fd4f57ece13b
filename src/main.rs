//! The `academie` binary: parses the command line, loads the configuration, sets up logging and
//! starts the chosen adapter. All behaviour lives in the library.

use academie::config::Settings;
use academie::console::Console;
use academie::domain::Lang;
use academie::text::keys;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

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

fn main() {
    if let Err(e) = run() {
        eprintln!("academie: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "academie=warn,warn".into()),
        )
        .init();
    let settings = Settings::load(cli.config.as_deref(), &|k| std::env::var(k).ok())?;
    for warning in &settings.warnings {
        eprintln!("academie: {warning}");
    }
    let lang = match &cli.lang {
        Some(l) => {
            Lang::parse_user(l).with_context(|| format!("--lang must be nl or en, found {l:?}"))?
        }
        None => settings.language,
    };
    let command = cli.command.unwrap_or(if settings.discord.token.is_some() {
        Command::Serve
    } else {
        Command::Console
    });
    if let Command::Serve = command {
        // Checked before opening the store, so a missing token is the only message.
        let options = academie::discord::ServeOptions::from_settings(&settings)?;
        let engine = std::sync::Arc::new(academie::open_engine(&settings)?);
        if let Some(report) = engine.seed_library_if_empty()? {
            tracing::info!(added = report.added, "loaded the starter library");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        return runtime.block_on(academie::discord::serve(
            engine,
            options,
            academie::discord::signals(),
        ));
    }
    let engine = academie::open_engine(&settings)?;
    match command {
        Command::Serve => Ok(()),
        Command::Console => {
            let stdin = std::io::stdin();
            let interactive = stdin.is_terminal();
            let mut console = Console::new(
                &engine,
                &settings.console_user,
                settings.console_role,
                lang,
                settings.export_dir.clone(),
            );
            console.run(stdin.lock(), &mut std::io::stdout(), interactive)
        }
        Command::Export {
            command: ExportCommand::Site { dir },
        } => {
            let dir = dir.unwrap_or_else(|| settings.export_dir.join("site"));
            let report = engine.export_site(&dir)?;
            let text = engine.catalog().render(
                lang,
                keys::CLI_SITE_WRITTEN,
                &serde_json::json!({
                    "dir": dir.display().to_string(),
                    "written": report.written,
                    "unchanged": report.unchanged,
                    "removed": report.removed,
                }),
            );
            println!("{text}");
            Ok(())
        }
        Command::Lessons {
            command: LessonsCommand::Import { dir },
        } => {
            let files = academie::engine::library_files(&dir)?;
            let report = engine.import_library(&files)?;
            let text = engine.catalog().render(
                lang,
                keys::CLI_LESSONS_IMPORTED,
                &serde_json::json!({
                    "count": files.len(),
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
