//! Configuration in two stages: the TOML file as written (unknown keys rejected, the key named),
//! then validated, typed settings with environment variables applied on top. Every key has a
//! default, so the academy runs with no file at all.

use crate::domain::{Lang, Role};
use crate::text::Source;
use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file looked for in the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "academie.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    academy: RawAcademy,
    #[serde(default)]
    console: RawConsole,
    #[serde(default)]
    discord: RawDiscord,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    path: Option<PathBuf>,
    cache_mb: Option<u64>,
    backups: Option<u32>,
    backup_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcademy {
    language: Option<String>,
    moderator_role: Option<String>,
    export_dir: Option<PathBuf>,
    prompts_dir: Option<PathBuf>,
    templates_dir: Option<PathBuf>,
    site: Option<bool>,
    #[serde(default)]
    holidays: Vec<String>,
    time_zone: Option<String>,
    re_review_months: Option<u32>,
    answer_retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    user: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    token: Option<String>,
    proxy_url: Option<String>,
    #[serde(default)]
    guilds: Vec<u64>,
    #[serde(default)]
    exchange_servers: Vec<u64>,
    questions_channel: Option<u64>,
    questions_forum: Option<bool>,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Clone, Debug)]
pub struct DiscordSettings {
    pub token: Option<Secret>,
    pub proxy_url: Option<String>,
    pub guilds: Vec<u64>,
    /// Servers whose moderators allow exchange with other servers, by configuration.
    pub exchange_servers: Vec<u64>,
    /// One academy-wide channel for questions to the academy, instead of every
    /// collaboration's channel.
    pub questions_channel: Option<u64>,
    /// That channel is a forum: each question becomes a post of its own.
    pub questions_forum: bool,
}

/// The validated settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database: PathBuf,
    pub cache_bytes: u64,
    /// How many automatic backups are kept beside the database; 0: none are taken.
    pub backups: u32,
    /// How long after the newest automatic backup the next is taken.
    pub backup_interval: chrono::Duration,
    pub language: Lang,
    pub moderator_role: Option<String>,
    pub export_dir: PathBuf,
    pub prompts: Source,
    /// Folder with edited digest templates (`<name>.hbs`, `style.css`); none: built-in.
    pub templates_dir: Option<PathBuf>,
    /// Whether publishing a digest updates the static site in `<export_dir>/site`.
    pub site: bool,
    /// Days on which no round starts by itself, besides weekends and the Dutch national
    /// holidays.
    pub holidays: Vec<chrono::NaiveDate>,
    /// The time zone of every collaboration that did not choose its own.
    pub time_zone: chrono_tz::Tz,
    /// Months after which an approved lesson nobody applied returns to the review queue.
    pub re_review_months: u32,
    /// Days after which the answers of a closed round are deleted; none: kept.
    pub answer_retention_days: Option<u32>,
    /// The name the console starts as; none: its own name in its language ("Ik", "Me").
    pub console_user: Option<String>,
    pub console_role: Role,
    /// For tests only (`ACADEMIE_TEST_CLOCK_SPEED`, never from a file): the academy's clock
    /// starts at the real time and runs this many times as fast, so a deadline of an hour
    /// falls due in seconds and the real scheduling path runs.
    pub test_clock_speed: Option<u32>,
    pub discord: DiscordSettings,
    /// Things worth telling the operator at start, such as a token in a file others can read.
    pub warnings: Vec<String>,
}

/// A token in a file that other users of the machine can read is as good as leaked.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

impl Settings {
    /// Reads `path` (or `academie.toml` if present), then applies the environment.
    pub fn load(path: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
        let (raw, origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    both(
                        format!(
                            "het configuratiebestand {} kan niet worden gelezen: {e}",
                            p.display()
                        ),
                        format!("cannot read the config file {}: {e}", p.display()),
                    )
                })?;
                (parse(&text, &p.display().to_string())?, Some(p.to_owned()))
            }
            None if Path::new(DEFAULT_FILE).exists() => {
                let text = std::fs::read_to_string(DEFAULT_FILE).map_err(|e| {
                    both(
                        format!("{DEFAULT_FILE} kan niet worden gelezen: {e}"),
                        format!("cannot read {DEFAULT_FILE}: {e}"),
                    )
                })?;
                (
                    parse(&text, DEFAULT_FILE)?,
                    Some(PathBuf::from(DEFAULT_FILE)),
                )
            }
            None => (RawConfig::default(), None),
        };
        let token_in_file = raw
            .discord
            .token
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        let mut settings = validate(raw, origin.as_deref(), env)?;
        if let Some(speed) = settings.test_clock_speed {
            settings.warnings.push(format!(
                "ACADEMIE_TEST_CLOCK_SPEED={speed}: de klok van de academie loopt {speed} keer zo \
                 snel, alleen voor tests.\nACADEMIE_TEST_CLOCK_SPEED={speed}: the academy's clock \
                 runs {speed} times as fast, for tests only."
            ));
        }
        if let Some(path) = origin
            .as_deref()
            .filter(|p| token_in_file && readable_by_others(p))
        {
            settings.warnings.push(format!(
                "{path} bevat het Discord-token en andere gebruikers kunnen het lezen: voer \
                 `chmod 600 {path}` uit, of zet het token in de omgevingsvariabele DISCORD_TOKEN.\n\
                 {path} holds the Discord token and other users can read it: run \
                 `chmod 600 {path}`, or move the token to the DISCORD_TOKEN environment variable.",
                path = path.display()
            ));
        }
        Ok(settings)
    }
}

fn parse(text: &str, name: &str) -> Result<RawConfig> {
    toml::from_str(text).map_err(|e| {
        let (nl, en) = toml_error(text, name, &e);
        both(nl, en)
    })
}

/// Whether a quoted word of a TOML error may be shown: a key name (known or mistyped, such as
/// an unknown field) or punctuation. The secret part of a Discord token is longer and mixes
/// in dots, so it never passes.
fn shown_in_errors(word: &str) -> bool {
    let key_like = word.len() <= 24
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    key_like || !word.chars().any(char::is_alphanumeric)
}

/// A TOML error as where it is and what is wrong, never the text found there: the toml crate
/// shows the offending line, and that line may hold the Discord token (written unquoted, with
/// an unclosed quote, with another key behind it, in an inline table, or twice).
/// Said in Dutch, then in English; what is wrong is the toml crate's own English words.
fn toml_error(text: &str, name: &str, e: &toml::de::Error) -> (String, String) {
    let what = hide_values(e.message().trim()).replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (
                format!("{name}, regel {line}, kolom {column}, klopt niet: {what}"),
                format!("{name}, line {line}, column {column}: {what}"),
            )
        }
        None => (
            format!("{name} klopt niet: {what}"),
            format!("{name}: {what}"),
        ),
    }
}

/// Replaces every quoted word of a TOML or serde message that could be a secret value
/// (`string "MTAx…"`) by `…`; key names and punctuation stay.
fn hide_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        // serde writes strings with Debug escapes: an escaped quote does not close one.
        let mut close = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if quote == '"' && !escaped => escaped = true,
                c if c == quote && !escaped => {
                    close = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(close) = close else {
            // An unpaired quote: whatever follows could be a value.
            out.push('…');
            return out;
        };
        let inner = &after[..close];
        if shown_in_errors(inner) {
            out.push_str(inner);
        } else {
            out.push('…');
        }
        out.push(quote);
        rest = &after[close + quote.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The longest retention and re-review period accepted: a hundred years.
/// sled's page cache when none is configured, in MiB. sled reckons a page by its size on disk
/// and holds two to three times that in memory, so its cache fills to several times this; at
/// 100,000 lessons a search answered as fast with a cache of 4 MB as with 64 MB, and a pass
/// over the whole store (a deletion's rewrite) held 60 MB less with 16 than with 64
/// (`docs/PERFORMANCE.md`).
pub const DEFAULT_CACHE_MB: u64 = 16;
pub const MAX_RETENTION_DAYS: u32 = 36_525;
pub const MAX_RE_REVIEW_MONTHS: u32 = 1_200;

/// A configuration error said in Dutch, then in English: the language is itself configured.
fn both(nl: String, en: String) -> anyhow::Error {
    anyhow!("{nl}\n{en}")
}

/// The console's first user: a name as `/als` takes it. It is printed to the terminal, so a
/// control character (an ANSI escape sequence) could rewrite the screen, and it is not
/// repeated in the refusal.
/// The configured console name, checked; `None` lets the console pick "Ik" or "Me" by language.
fn console_user(name: Option<String>) -> Result<Option<String>> {
    let Some(name) = name else {
        return Ok(None);
    };
    let max = crate::engine::limits::NAME;
    let length = name.chars().count();
    if length > max {
        return Err(both(
            format!("console.user (of ACADEMIE_CONSOLE_USER) is {length} tekens lang; een naam heeft er hoogstens {max}."),
            format!("console.user (or ACADEMIE_CONSOLE_USER) is {length} characters long; a name has at most {max}."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(both(
            "console.user (of ACADEMIE_CONSOLE_USER) bevat een stuurteken (zoals een escapereeks); een naam bestaat uit gewone tekens.".into(),
            "console.user (or ACADEMIE_CONSOLE_USER) holds a control character (such as an escape sequence); a name is made of ordinary characters.".into(),
        ));
    }
    Ok(Some(name))
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn validate(
    raw: RawConfig,
    origin: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let var = |name: &str| non_empty(env(name));
    let language_text = var("ACADEMIE_LANGUAGE")
        .or(raw.academy.language)
        .unwrap_or_else(|| "nl".into());
    let language = Lang::parse_user(&language_text).ok_or_else(|| {
        both(
            format!("academy.language moet \"nl\" of \"en\" zijn, niet {language_text:?}"),
            format!("academy.language must be \"nl\" or \"en\", found {language_text:?}"),
        )
    })?;
    let role_text = var("ACADEMIE_CONSOLE_ROLE")
        .or(raw.console.role)
        .unwrap_or_else(|| "admin".into());
    let console_role = Role::parse_user(&role_text).ok_or_else(|| {
        both(
            format!("console.role moet member, moderator of admin zijn, niet {role_text:?}"),
            format!("console.role must be member, moderator or admin, found {role_text:?}"),
        )
    })?;
    let cache_mb = match var("ACADEMIE_CACHE_MB") {
        Some(v) => v.parse::<u64>().map_err(|_| {
            both(
                format!("ACADEMIE_CACHE_MB moet een geheel getal zijn, niet {v:?}"),
                format!("ACADEMIE_CACHE_MB must be a whole number, found {v:?}"),
            )
        })?,
        None => raw.storage.cache_mb.unwrap_or(DEFAULT_CACHE_MB),
    };
    if !(1..=65_536).contains(&cache_mb) {
        return Err(both(
            format!("storage.cache_mb moet tussen 1 en 65536 liggen, niet {cache_mb}"),
            format!("storage.cache_mb must be between 1 and 65536, found {cache_mb}"),
        ));
    }
    let backups = match var("ACADEMIE_BACKUPS") {
        Some(v) => v.parse::<u32>().map_err(|_| {
            both(
                format!("ACADEMIE_BACKUPS moet een geheel getal zijn, niet {v:?}"),
                format!("ACADEMIE_BACKUPS must be a whole number, found {v:?}"),
            )
        })?,
        None => raw.storage.backups.unwrap_or(7),
    };
    if backups > 1000 {
        return Err(both(
            format!("storage.backups mag hoogstens 1000 zijn, niet {backups}"),
            format!("storage.backups must be at most 1000, found {backups}"),
        ));
    }
    let interval_text = var("ACADEMIE_BACKUP_INTERVAL")
        .or(raw.storage.backup_interval)
        .unwrap_or_else(|| "1d".into());
    let backup_interval = parse_interval(&interval_text).ok_or_else(|| {
        both(
            format!(
                "storage.backup_interval is een getal en een eenheid, s, m, h of d (zoals \"12h\" \
                 of \"1d\"), minstens 1s en hoogstens 365d; niet {interval_text:?}"
            ),
            format!(
                "storage.backup_interval is a number and a unit, s, m, h or d (like \"12h\" or \
                 \"1d\"), at least 1s and at most 365d; found {interval_text:?}"
            ),
        )
    })?;
    let proxy_url = var("ACADEMIE_DISCORD_PROXY").or(non_empty(raw.discord.proxy_url));
    if let Some(url) = &proxy_url {
        // Not repeated: a proxy URL may carry a password.
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(both(
                "discord.proxy_url moet beginnen met http:// of https://".into(),
                "discord.proxy_url must start with http:// or https://".into(),
            ));
        }
    }
    for (key, path) in [
        ("storage.path", &raw.storage.path),
        ("academy.export_dir", &raw.academy.export_dir),
        ("academy.prompts_dir", &raw.academy.prompts_dir),
        ("academy.templates_dir", &raw.academy.templates_dir),
    ] {
        if path
            .as_ref()
            .is_some_and(|p| p.to_string_lossy().trim().is_empty())
        {
            // An empty path would resolve to the folder of the configuration file itself.
            return Err(both(
                format!("{key} is leeg: geef een map op, of laat de sleutel weg voor de standaardwaarde."),
                format!("{key} is empty: give a folder, or leave the key out for the default."),
            ));
        }
    }
    // Relative paths in a config file are relative to that file, so the academy finds its data
    // whatever the working directory.
    let base = origin
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty());
    let resolve = |p: PathBuf| match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    };
    let prompts = match var("ACADEMIE_PROMPTS_DIR")
        .map(PathBuf::from)
        .or(raw.academy.prompts_dir.map(&resolve))
    {
        Some(dir) => Source::Folder(dir),
        None => Source::Embedded,
    };
    let holidays = raw
        .academy
        .holidays
        .iter()
        .map(|d| {
            crate::time::parse_date(d).ok_or_else(|| {
                both(
                    format!(
                        "academy.holidays bevat datums zoals \"24-12-2026\" of \"2026-12-24\", \
                         niet {d:?}"
                    ),
                    format!(
                        "academy.holidays holds dates like \"2026-12-24\" or \"24-12-2026\", \
                         found {d:?}"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let zone_text = var("ACADEMIE_TIME_ZONE").or(non_empty(raw.academy.time_zone));
    let time_zone = match zone_text {
        None => crate::time::DEFAULT_ZONE,
        Some(name) => crate::time::parse_zone(&name).ok_or_else(|| {
            both(
                format!(
                    "academy.time_zone moet een tijdzone uit de IANA-database zijn, zoals \
                     \"Europe/Amsterdam\" of \"Europe/London\", niet {name:?}"
                ),
                format!(
                    "academy.time_zone must be a time zone of the IANA database, such as \
                     \"Europe/Amsterdam\" or \"Europe/London\", found {name:?}"
                ),
            )
        })?,
    };
    if raw.discord.exchange_servers.contains(&0) || raw.discord.questions_channel == Some(0) {
        return Err(both(
            "discord.exchange_servers en discord.questions_channel bevatten Discord-ids, en die \
             zijn nooit 0 (klik met rechts op de server of het kanaal → ID kopiëren)"
                .into(),
            "discord.exchange_servers and discord.questions_channel hold Discord ids, which are \
             never 0 (right-click the server or channel → Copy ID)"
                .into(),
        ));
    }
    if raw.discord.questions_forum == Some(true) && raw.discord.questions_channel.is_none() {
        return Err(both(
            "discord.questions_forum zegt dat het vragenkanaal een forum is, maar \
             discord.questions_channel noemt er geen"
                .into(),
            "discord.questions_forum says the questions channel is a forum, but \
             discord.questions_channel names none"
                .into(),
        ));
    }
    if raw.discord.guilds.contains(&0) {
        return Err(both(
            "discord.guilds bevat server-ids, en die zijn nooit 0 (Serverinstellingen → Widget, \
             of klik met rechts op de server → Server-ID kopiëren)"
                .into(),
            "discord.guilds holds server ids, which are never 0 (Server Settings → Widget, or \
             right-click the server → Copy Server ID)"
                .into(),
        ));
    }
    Ok(Settings {
        database: var("ACADEMIE_DATABASE")
            .map(PathBuf::from)
            .or(raw.storage.path.map(&resolve))
            .unwrap_or_else(|| PathBuf::from("data/academie.db")),
        cache_bytes: cache_mb * 1024 * 1024,
        backups,
        backup_interval,
        language,
        moderator_role: var("ACADEMIE_MODERATOR_ROLE").or(non_empty(raw.academy.moderator_role)),
        export_dir: var("ACADEMIE_EXPORT_DIR")
            .map(PathBuf::from)
            .or(raw.academy.export_dir.map(&resolve))
            .unwrap_or_else(|| PathBuf::from("export")),
        prompts,
        templates_dir: var("ACADEMIE_TEMPLATES_DIR")
            .map(PathBuf::from)
            .or(raw.academy.templates_dir.map(&resolve)),
        site: match var("ACADEMIE_SITE") {
            Some(v) => match v.to_lowercase().as_str() {
                "1" | "true" | "yes" | "ja" => true,
                "0" | "false" | "no" | "nee" => false,
                _ => {
                    return Err(both(
                        format!("ACADEMIE_SITE moet true of false zijn, niet {v:?}"),
                        format!("ACADEMIE_SITE must be true or false, found {v:?}"),
                    ))
                }
            },
            None => raw.academy.site.unwrap_or(true),
        },
        holidays,
        time_zone,
        answer_retention_days: match raw.academy.answer_retention_days {
            Some(n) if !(1..=MAX_RETENTION_DAYS).contains(&n) => {
                return Err(both(
                    format!(
                        "academy.answer_retention_days moet tussen 1 en {MAX_RETENTION_DAYS} \
                         (honderd jaar) liggen, maar is {n}; laat de sleutel weg om antwoorden \
                         te bewaren."
                    ),
                    format!(
                        "academy.answer_retention_days must be between 1 and \
                         {MAX_RETENTION_DAYS} (a hundred years), found {n}; leave the key out \
                         to keep answers."
                    ),
                ))
            }
            other => other,
        },
        re_review_months: match raw.academy.re_review_months {
            Some(n) if !(1..=MAX_RE_REVIEW_MONTHS).contains(&n) => {
                return Err(both(
                    format!(
                        "academy.re_review_months moet tussen 1 en {MAX_RE_REVIEW_MONTHS} \
                         (honderd jaar) liggen, maar is {n}."
                    ),
                    format!(
                        "academy.re_review_months must be between 1 and \
                         {MAX_RE_REVIEW_MONTHS} (a hundred years), found {n}."
                    ),
                ))
            }
            Some(n) => n,
            None => 12,
        },
        console_user: console_user(var("ACADEMIE_CONSOLE_USER").or(non_empty(raw.console.user)))?,
        console_role,
        discord: DiscordSettings {
            token: var("DISCORD_TOKEN")
                .or(non_empty(raw.discord.token))
                .map(Secret),
            proxy_url,
            guilds: raw.discord.guilds,
            exchange_servers: raw.discord.exchange_servers,
            questions_channel: raw.discord.questions_channel,
            questions_forum: raw.discord.questions_forum.unwrap_or(false),
        },
        test_clock_speed: match var("ACADEMIE_TEST_CLOCK_SPEED") {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(both(
                        format!(
                        "ACADEMIE_TEST_CLOCK_SPEED moet een geheel getal vanaf 1 zijn, niet {v:?}"
                    ),
                        format!(
                            "ACADEMIE_TEST_CLOCK_SPEED must be a whole number from 1, found {v:?}"
                        ),
                    ))
                }
            },
        },
        warnings: Vec::new(),
    })
}

/// A duration like `30m`, `12h` or `1d`, between a second and a year.
fn parse_interval(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let d = match unit {
        's' => chrono::Duration::try_seconds(n),
        'm' => chrono::Duration::try_minutes(n),
        'h' => chrono::Duration::try_hours(n),
        'd' => chrono::Duration::try_days(n),
        _ => None,
    }?;
    (chrono::Duration::seconds(1)..=chrono::Duration::days(365))
        .contains(&d)
        .then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_settings_have_defaults_and_are_checked() {
        let s = load_str("", &[]).unwrap();
        assert_eq!(s.backups, 7);
        assert_eq!(s.backup_interval, chrono::Duration::days(1));
        let s = load_str("[storage]\nbackups = 3\nbackup_interval = \"6h\"\n", &[]).unwrap();
        assert_eq!(
            (s.backups, s.backup_interval),
            (3, chrono::Duration::hours(6))
        );
        let s = load_str(
            "",
            &[
                ("ACADEMIE_BACKUPS", "0"),
                ("ACADEMIE_BACKUP_INTERVAL", "2s"),
            ],
        )
        .unwrap();
        assert_eq!(
            (s.backups, s.backup_interval),
            (0, chrono::Duration::seconds(2))
        );
        for bad in ["0s", "1y", "d", "-1h", "400d", ""] {
            let err = load_str(&format!("[storage]\nbackup_interval = {bad:?}\n"), &[])
                .expect_err(bad)
                .to_string();
            assert!(err.contains("backup_interval"), "{err}");
        }
    }
    use std::collections::HashMap;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Settings> {
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        validate(parse(text, "test.toml")?, None, &|k| vars.get(k).cloned())
    }

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../config.example.toml");
        let s = load_str(text, &[]).unwrap();
        assert_eq!(s.language, Lang::Nl);
        // The example shows the defaults.
        assert_eq!(s.cache_bytes, load_str("", &[]).unwrap().cache_bytes);
    }

    #[test]
    fn defaults_need_no_file() {
        let s = load_str("", &[]).unwrap();
        assert_eq!(s.database, PathBuf::from("data/academie.db"));
        assert!(matches!(s.prompts, Source::Embedded));
        assert!(s.discord.token.is_none());
        assert_eq!(s.cache_bytes, 16 * 1024 * 1024);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = load_str("[storage]\npaht = \"x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("paht"), "{err}");
        let err = load_str("[discrod]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("discrod"), "{err}");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let s = load_str(
            "[academy]\nlanguage = \"nl\"\n[discord]\ntoken = \"from-file\"\n",
            &[
                ("ACADEMIE_LANGUAGE", "en"),
                ("DISCORD_TOKEN", "from-env"),
                ("ACADEMIE_DATABASE", "/tmp/x.db"),
            ],
        )
        .unwrap();
        assert_eq!(s.language, Lang::En);
        assert_eq!(
            s.discord.token.as_ref().map(Secret::expose),
            Some("from-env")
        );
        assert_eq!(s.database, PathBuf::from("/tmp/x.db"));
    }

    #[test]
    fn bad_values_are_explained() {
        let err = load_str("[academy]\nlanguage = \"fr\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("academy.language"), "{err}");
        let err = load_str("[discord]\nproxy_url = \"ftp://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("proxy_url"), "{err}");
        let err = load_str("[academy]\ntime_zone = \"Europe/Amsterdamm\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("academy.time_zone"), "{err}");
    }

    #[test]
    fn every_refusal_is_said_in_dutch_then_in_english() {
        let refused = |text: &str, env: &[(&str, &str)]| {
            let err = load_str(text, env).unwrap_err().to_string();
            let lines: Vec<String> = err.lines().map(str::to_owned).collect();
            assert_eq!(lines.len(), 2, "Dutch, then English: {err}");
            lines
        };
        for (text, env, nl, en) in [
            (
                "[academy]\nlanguage = \"fr\"\n",
                &[][..],
                "moet \"nl\" of \"en\" zijn",
                "must be",
            ),
            (
                "[storage]\npaht = \"x\"\n",
                &[],
                "regel 2, kolom 1, klopt niet",
                "line 2, column 1",
            ),
            (
                "",
                &[("ACADEMIE_CACHE_MB", "veel")],
                "geheel getal",
                "whole number",
            ),
            (
                "[storage]\nbackups = 5000\n",
                &[],
                "hoogstens 1000",
                "at most 1000",
            ),
            (
                "[academy]\nholidays = [\"kerst\"]\n",
                &[],
                "bevat datums",
                "holds dates",
            ),
            ("[discord]\nguilds = [0]\n", &[], "nooit 0", "never 0"),
            (
                "",
                &[("ACADEMIE_SITE", "misschien")],
                "true of false",
                "true or false",
            ),
        ] {
            let lines = refused(text, env);
            assert!(lines[0].contains(nl), "{lines:?}");
            assert!(lines[1].contains(en), "{lines:?}");
        }
        let missing = Settings::load(Some(Path::new("/nonexistent/academie.toml")), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("het configuratiebestand /nonexistent/academie.toml kan niet")
                && missing.contains("\ncannot read the config file"),
            "{missing}"
        );
    }

    #[test]
    fn the_time_zone_is_dutch_unless_configured() {
        let s = load_str("", &[]).unwrap();
        assert_eq!(s.time_zone, chrono_tz::Europe::Amsterdam);
        let s = load_str("[academy]\ntime_zone = \"Europe/London\"\n", &[]).unwrap();
        assert_eq!(s.time_zone, chrono_tz::Europe::London);
        let s = load_str(
            "[academy]\ntime_zone = \"Europe/London\"\n",
            &[("ACADEMIE_TIME_ZONE", "UTC")],
        )
        .unwrap();
        assert_eq!(s.time_zone, chrono_tz::UTC);
        let s = load_str(
            "[academy]\nholidays = [\"2026-12-24\", \"31-12-2026\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.holidays.len(), 2);
    }

    /// A token as Discord makes them: the bot's id in base64, a time stamp, a signature.
    const TOKEN: &str = "MTAxNjQ3ODk0NTY3ODkwMTIzNA.GhJk9s.canary-Zq3RsX8vLmN0pQ1wYtUe7";

    /// Every shape of a broken file that puts the token on the line the TOML error is about.
    pub(crate) fn broken_files() -> Vec<String> {
        vec![
            format!("[discord]\ntoken = {TOKEN}\n"),
            format!("[discord]\ntoken = \"{TOKEN}\n"),
            format!("[discord]\ntoken = '{TOKEN}\n"),
            format!("[discord]\ntoken = \"{TOKEN}\" guilds = [1]\n"),
            format!("[discord]\nguilds = [1] token = \"{TOKEN}\"\n"),
            format!("discord = {{ token = \"{TOKEN}\", guild = 1 }}\n"),
            format!("discord = {{ token = \"{TOKEN}\" \n"),
            format!("[discord]\ntoken = \"{TOKEN}\"\ntoken = \"{TOKEN}\"\n"),
            format!("[discord]\ntoken = \"{TOKEN}\"\n[discord]\n"),
            format!("[discord]\ntoken = [\"{TOKEN}\"]\n"),
            format!("[discord]\nguilds = \"{TOKEN}\"\n"),
            format!("discord = \"{TOKEN}\"\n"),
            format!("[discord]\n{TOKEN} = 1\n"),
            format!("[discord]\n\"{TOKEN}\" = 1\n"),
        ]
    }

    #[test]
    fn a_broken_file_never_shows_the_token_and_says_where() {
        for text in broken_files() {
            let err = format!("{:#}", load_str(&text, &[]).unwrap_err());
            for part in TOKEN.split('.').skip(1) {
                assert!(!err.contains(part), "{text:?} gave: {err}");
            }
            assert!(!err.contains("canary"), "{text:?} gave: {err}");
            assert!(err.contains("test.toml, line "), "{text:?} gave: {err}");
        }
        // A mistyped key is still named.
        let err = load_str("[discord]\ntokn = \"x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tokn`"), "{err}");
    }

    #[test]
    fn out_of_range_periods_empty_paths_and_unprintable_names_are_refused_in_both_languages() {
        for (text, says) in [
            (
                "[academy]\nanswer_retention_days = 4294967295\n",
                "answer_retention_days",
            ),
            (
                "[academy]\nre_review_months = 4294967295\n",
                "re_review_months",
            ),
            ("[storage]\npath = \"\"\n", "storage.path is leeg"),
            ("[storage]\npath = \"  \"\n", "storage.path is empty"),
            ("[academy]\nexport_dir = \"\"\n", "academy.export_dir"),
            ("[console]\nuser = \"\\u001b[31mRood\"\n", "stuurteken"),
        ] {
            let err = load_str(text, &[]).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?} gave: {err}");
            assert_eq!(err.lines().count(), 2, "Dutch, then English: {err}");
            assert!(!err.contains('\u{1b}'), "{err}");
        }
        let long = "x".repeat(20_000);
        let err = load_str("", &[("ACADEMIE_CONSOLE_USER", &long)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("20000 tekens") && err.len() < 400, "{err}");
        let s = load_str("[academy]\nanswer_retention_days = 36525\n", &[]).unwrap();
        assert_eq!(s.answer_retention_days, Some(MAX_RETENTION_DAYS));
    }

    #[test]
    fn exchange_between_servers_and_the_questions_channel_are_read_and_checked() {
        let s = load_str(
            "[discord]\nexchange_servers = [11, 12]\nquestions_channel = 13\nquestions_forum = true\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.discord.exchange_servers, vec![11, 12]);
        assert_eq!(s.discord.questions_channel, Some(13));
        assert!(s.discord.questions_forum);
        let err = load_str("[discord]\nquestions_forum = true\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("questions_channel"), "{err}");
        let err = load_str("[discord]\nexchange_servers = [0]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("exchange_servers"), "{err}");
    }

    #[test]
    fn the_token_never_prints() {
        let s = load_str("[discord]\ntoken = \"canary-secret-123\"\n", &[]).unwrap();
        assert!(!format!("{s:?}").contains("canary-secret-123"));
    }
}
