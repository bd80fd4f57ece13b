//! Configuration in two stages: the TOML file as written (unknown keys rejected, the key named),
//! then validated, typed settings with environment variables applied on top. Every key has a
//! default, so the academy runs with no file at all.

use crate::domain::{Lang, Role};
use crate::text::Source;
use anyhow::{anyhow, bail, Context, Result};
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
    /// Days on which no round starts by itself, besides weekends.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Months after which an approved lesson nobody applied returns to the review queue.
    pub re_review_months: u32,
    /// Days after which the answers of a closed round are deleted; none: kept.
    pub answer_retention_days: Option<u32>,
    pub console_user: String,
    pub console_role: Role,
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
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the config file {}", p.display()))?;
                (parse(&text, &p.display().to_string())?, Some(p.to_owned()))
            }
            None if Path::new(DEFAULT_FILE).exists() => {
                let text = std::fs::read_to_string(DEFAULT_FILE)
                    .with_context(|| format!("cannot read {DEFAULT_FILE}"))?;
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
    toml::from_str(text).map_err(|e| anyhow!("{name}: {}", e.to_string().trim()))
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
        anyhow!("academy.language must be \"nl\" or \"en\", found {language_text:?}")
    })?;
    let role_text = var("ACADEMIE_CONSOLE_ROLE")
        .or(raw.console.role)
        .unwrap_or_else(|| "admin".into());
    let console_role = Role::parse_user(&role_text).ok_or_else(|| {
        anyhow!("console.role must be member, moderator or admin, found {role_text:?}")
    })?;
    let cache_mb = match var("ACADEMIE_CACHE_MB") {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| anyhow!("ACADEMIE_CACHE_MB must be a whole number, found {v:?}"))?,
        None => raw.storage.cache_mb.unwrap_or(64),
    };
    if !(1..=65_536).contains(&cache_mb) {
        bail!("storage.cache_mb must be between 1 and 65536, found {cache_mb}");
    }
    let backups = match var("ACADEMIE_BACKUPS") {
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| anyhow!("ACADEMIE_BACKUPS must be a whole number, found {v:?}"))?,
        None => raw.storage.backups.unwrap_or(7),
    };
    if backups > 1000 {
        bail!("storage.backups must be at most 1000, found {backups}");
    }
    let interval_text = var("ACADEMIE_BACKUP_INTERVAL")
        .or(raw.storage.backup_interval)
        .unwrap_or_else(|| "1d".into());
    let backup_interval = parse_interval(&interval_text).ok_or_else(|| {
        anyhow!(
            "storage.backup_interval is a number and a unit, s, m, h or d (like \"12h\" or \"1d\"), \
             at least 1s and at most 365d; found {interval_text:?}"
        )
    })?;
    let proxy_url = var("ACADEMIE_DISCORD_PROXY").or(non_empty(raw.discord.proxy_url));
    if let Some(url) = &proxy_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("discord.proxy_url must start with http:// or https://, found {url:?}");
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
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                anyhow!("academy.holidays holds dates like \"2026-12-25\", found {d:?}")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if raw.discord.guilds.contains(&0) {
        bail!("discord.guilds holds server ids, which are never 0 (Server Settings → Widget, or right-click the server → Copy Server ID)");
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
                _ => bail!("ACADEMIE_SITE must be true or false, found {v:?}"),
            },
            None => raw.academy.site.unwrap_or(true),
        },
        holidays,
        answer_retention_days: match raw.academy.answer_retention_days {
            Some(0) => bail!(
                "academy.answer_retention_days must be at least 1 (leave it out to keep answers)"
            ),
            other => other,
        },
        re_review_months: match raw.academy.re_review_months {
            Some(0) => bail!("academy.re_review_months must be at least 1"),
            Some(n) => n,
            None => 12,
        },
        console_user: var("ACADEMIE_CONSOLE_USER")
            .or(non_empty(raw.console.user))
            .unwrap_or_else(|| "Ik".into()),
        console_role,
        discord: DiscordSettings {
            token: var("DISCORD_TOKEN")
                .or(non_empty(raw.discord.token))
                .map(Secret),
            proxy_url,
            guilds: raw.discord.guilds,
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
    }

    #[test]
    fn defaults_need_no_file() {
        let s = load_str("", &[]).unwrap();
        assert_eq!(s.database, PathBuf::from("data/academie.db"));
        assert!(matches!(s.prompts, Source::Embedded));
        assert!(s.discord.token.is_none());
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
    }

    #[test]
    fn the_token_never_prints() {
        let s = load_str("[discord]\ntoken = \"canary-secret-123\"\n", &[]).unwrap();
        assert!(!format!("{s:?}").contains("canary-secret-123"));
    }
}
