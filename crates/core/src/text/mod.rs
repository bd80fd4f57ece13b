//! Every word a user sees, in Dutch and English: the academy's domain texts (`academy.toml`) and
//! the interface messages (`messages.toml`) under `prompts/<lang>/`.
//!
//! Defaults are embedded in the binary; a configured folder replaces them. Both are validated at
//! start: a missing, empty, unknown or malformed entry stops start-up with the file and the key.
//! Messages are handlebars templates in strict mode, rendered without escaping (the output is
//! plain text, not HTML). User text only ever enters as data, never as a template.

use crate::disk::Disk;
use crate::domain::{Lang, Layer, Order, Perspective, Step};
use anyhow::{anyhow, bail, Context, Result};
use handlebars::Handlebars;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub mod keys;

const EMBEDDED: [(Lang, &str, &str); 2] = [
    (
        Lang::Nl,
        include_str!("../../../../prompts/nl/academy.toml"),
        include_str!("../../../../prompts/nl/messages.toml"),
    ),
    (
        Lang::En,
        include_str!("../../../../prompts/en/academy.toml"),
        include_str!("../../../../prompts/en/messages.toml"),
    ),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcademyIntro {
    pub name: String,
    pub tagline: String,
    pub never_finished: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepText {
    pub short: String,
    pub question: String,
    pub followups: Vec<String>,
    pub explanation: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerspectiveText {
    pub name: String,
    pub tradition: String,
    pub quadrant: String,
    pub basic_form: String,
    pub cement: String,
    pub values: Vec<String>,
    pub summary: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderText {
    pub name: String,
    pub short: String,
    pub description: String,
    pub examples: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerText {
    pub name: String,
    pub attribution: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cells {
    pub little_few: String,
    pub little_many: String,
    pub much_few: String,
    pub much_many: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoingLearning {
    pub title: String,
    pub yield_axis: String,
    pub lessons_axis: String,
    pub note: String,
    pub cells: Cells,
}

/// The domain texts of one language, as a moderator may edit them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcademyText {
    pub academy: AcademyIntro,
    pub steps: BTreeMap<String, StepText>,
    pub perspectives: BTreeMap<String, PerspectiveText>,
    pub perspectives_note: Note,
    pub orders: BTreeMap<String, OrderText>,
    pub layers: BTreeMap<String, LayerText>,
    pub doing_learning: DoingLearning,
}

impl AcademyText {
    pub fn step(&self, step: Step) -> &StepText {
        &self.steps[step.key()]
    }
    pub fn perspective(&self, p: Perspective) -> &PerspectiveText {
        &self.perspectives[p.key()]
    }
    pub fn order(&self, o: Order) -> &OrderText {
        &self.orders[o.key()]
    }
    pub fn layer(&self, l: Layer) -> &LayerText {
        &self.layers[l.key()]
    }
}

/// Where the prompt files come from.
#[derive(Clone, Debug)]
pub enum Source {
    Embedded,
    Folder(PathBuf),
}

/// Both languages, loaded and checked.
pub struct Catalog {
    academy: BTreeMap<Lang, AcademyText>,
    templates: Handlebars<'static>,
    /// A checksum of the texts it was loaded from: pages written with other texts differ.
    fingerprint: u32,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    /// A checksum of the texts it was loaded from, the same in every process that loads the
    /// same files.
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// The catalog built into the binary.
    pub fn embedded() -> Result<Catalog> {
        Catalog::load(&Source::Embedded, &crate::disk::MemoryDisk::default())
    }

    /// The catalog from `source`, a folder of it read from `disk`.
    pub fn load(source: &Source, disk: &dyn Disk) -> Result<Catalog> {
        let mut academy = BTreeMap::new();
        let mut templates = Handlebars::new();
        templates.set_strict_mode(true);
        templates.register_escape_fn(handlebars::no_escape);
        let mut key_sets: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut fingerprint = crc32fast::Hasher::new();

        for (lang, embedded_academy, embedded_messages) in EMBEDDED {
            let (academy_name, academy_src, messages_name, messages_src) = match source {
                Source::Embedded => (
                    format!("prompts/{}/academy.toml (embedded)", lang.key()),
                    embedded_academy.to_owned(),
                    format!("prompts/{}/messages.toml (embedded)", lang.key()),
                    embedded_messages.to_owned(),
                ),
                Source::Folder(dir) => {
                    let a = dir.join(lang.key()).join("academy.toml");
                    let m = dir.join(lang.key()).join("messages.toml");
                    (
                        a.display().to_string(),
                        read(disk, &a)?,
                        m.display().to_string(),
                        read(disk, &m)?,
                    )
                }
            };
            for src in [&academy_src, &messages_src] {
                fingerprint.update(src.as_bytes());
                fingerprint.update(&[0]);
            }
            let text = parse_academy(&academy_name, &academy_src)?;
            let value: toml::Value = toml::from_str(&academy_src)
                .with_context(|| format!("{academy_name}: not valid TOML"))?;
            let mut keys = BTreeSet::new();
            flatten_keys(&value, "", &mut keys);
            key_sets.push((academy_name.clone(), keys));
            academy.insert(lang, text);

            let messages = parse_messages(&messages_name, &messages_src)?;
            for (key, template) in &messages {
                templates
                    .register_template_string(&template_name(lang, key), template)
                    .map_err(|e| {
                        anyhow!("{messages_name}: key `{key}` is not a valid template: {e}")
                    })?;
            }
        }
        // The two languages' domain files must offer the same keys, so no text is missing in one.
        if let [(name_a, a), (name_b, b)] = key_sets.as_slice() {
            if let Some(k) = a.symmetric_difference(b).next() {
                let (has, lacks) = if a.contains(k) {
                    (name_a, name_b)
                } else {
                    (name_b, name_a)
                };
                bail!("{lacks}: key `{k}` is missing (it is present in {has})");
            }
        }
        Ok(Catalog {
            academy,
            templates,
            fingerprint: fingerprint.finalize(),
        })
    }

    pub fn academy(&self, lang: Lang) -> &AcademyText {
        &self.academy[&lang]
    }

    /// Renders message `key` in `lang`. A render failure is a bug (the tests render every key),
    /// so it is logged and the key is shown instead of failing the user's action.
    pub fn render(&self, lang: Lang, key: &str, data: &serde_json::Value) -> String {
        match self.templates.render(&template_name(lang, key), data) {
            Ok(text) => text.trim_end().to_owned(),
            Err(e) => {
                tracing::error!(key, lang = lang.key(), error = %e, "message template failed");
                format!("[{key}]")
            }
        }
    }

    /// A design step as chat replies and the site name it: its number and short name.
    pub fn step_label(&self, lang: Lang, step: Step) -> String {
        self.render(
            lang,
            keys::STEP_LABEL,
            &serde_json::json!({"number": step.number(), "short": self.academy(lang).step(step).short}),
        )
    }

    /// A message without arguments.
    pub fn plain(&self, lang: Lang, key: &str) -> String {
        self.render(lang, key, &serde_json::json!({}))
    }

    /// What went wrong with a file, in `lang`: the causes a person can act on in words, any
    /// other as the system says it.
    pub fn io_error(&self, lang: Lang, e: &std::io::Error) -> String {
        use std::io::ErrorKind as K;
        let key = match e.kind() {
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => keys::IO_FULL,
            K::PermissionDenied => keys::IO_NO_PERMISSION,
            K::ReadOnlyFilesystem => keys::IO_READ_ONLY,
            K::NotADirectory | K::AlreadyExists => keys::IO_NOT_A_FOLDER,
            K::NotFound => keys::IO_NOT_FOUND,
            _ => return e.to_string(),
        };
        self.plain(lang, key)
    }
}

fn template_name(lang: Lang, key: &str) -> String {
    format!("{}/{}", lang.key(), key)
}

fn read(disk: &dyn Disk, path: &Path) -> Result<String> {
    disk.read_to_string(path)
        .with_context(|| format!("{}: cannot read the prompt file", path.display()))
}

fn parse_academy(name: &str, src: &str) -> Result<AcademyText> {
    let text: AcademyText =
        toml::from_str(src).map_err(|e| anyhow!("{name}: {}", e.to_string().trim()))?;
    let value: toml::Value = toml::from_str(src)?;
    if let Some(key) = first_empty(&value, "") {
        bail!("{name}: key `{key}` is empty");
    }
    let required: [(&str, Vec<&str>); 4] = [
        ("steps", Step::ALL.iter().map(|s| s.key()).collect()),
        (
            "perspectives",
            Perspective::ALL.iter().map(|s| s.key()).collect(),
        ),
        ("orders", Order::ALL.iter().map(|s| s.key()).collect()),
        ("layers", Layer::ALL.iter().map(|s| s.key()).collect()),
    ];
    for (table, keys) in required {
        let present: BTreeSet<&str> = match table {
            "steps" => text.steps.keys().map(String::as_str).collect(),
            "perspectives" => text.perspectives.keys().map(String::as_str).collect(),
            "orders" => text.orders.keys().map(String::as_str).collect(),
            _ => text.layers.keys().map(String::as_str).collect(),
        };
        for k in &keys {
            if !present.contains(k) {
                bail!("{name}: key `{table}.{k}` is missing");
            }
        }
        if let Some(extra) = present.iter().find(|k| !keys.contains(k)) {
            bail!(
                "{name}: key `{table}.{extra}` is unknown (expected one of {})",
                keys.join(", ")
            );
        }
    }
    Ok(text)
}

fn parse_messages(name: &str, src: &str) -> Result<BTreeMap<String, String>> {
    let value: toml::Value =
        toml::from_str(src).map_err(|e| anyhow!("{name}: {}", e.to_string().trim()))?;
    let mut flat = BTreeMap::new();
    flatten_strings(name, &value, "", &mut flat)?;
    for key in keys::ALL {
        match flat.get(*key) {
            None => bail!("{name}: key `{key}` is missing"),
            Some(t) if t.trim().is_empty() => bail!("{name}: key `{key}` is empty"),
            Some(_) => {}
        }
    }
    if let Some(extra) = flat.keys().find(|k| !keys::ALL.contains(&k.as_str())) {
        bail!("{name}: key `{extra}` is unknown to this version of the academy");
    }
    Ok(flat)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn flatten_keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten_keys(v, &join(prefix, k), out);
            }
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

fn first_empty(value: &toml::Value, prefix: &str) -> Option<String> {
    match value {
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| first_empty(v, &join(prefix, k))),
        toml::Value::Array(a) if a.is_empty() => Some(prefix.to_owned()),
        toml::Value::Array(a) => a.iter().find_map(|v| first_empty(v, prefix)),
        toml::Value::String(s) if s.trim().is_empty() => Some(prefix.to_owned()),
        _ => None,
    }
}

fn flatten_strings(
    name: &str,
    value: &toml::Value,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<()> {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten_strings(name, v, &join(prefix, k), out)?;
            }
            Ok(())
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
            Ok(())
        }
        _ => bail!("{name}: key `{prefix}` must be text"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemoryDisk;

    /// The built-in prompt files in a folder of their own.
    fn copy_prompts(disk: &MemoryDisk, to: &Path) {
        for (lang, academy, messages) in EMBEDDED {
            for (f, src) in [("academy.toml", academy), ("messages.toml", messages)] {
                let path = to.join(lang.key()).join(f);
                disk.write_private(&path, src.as_bytes()).unwrap();
            }
        }
    }

    #[test]
    fn the_embedded_catalog_loads() {
        let c = Catalog::embedded().unwrap();
        assert_eq!(
            c.academy(Lang::Nl).step(Step::Issue).question,
            "Wat is volgens ons het vraagstuk?"
        );
        assert_eq!(c.academy(Lang::En).steps.len(), 5);
    }

    #[test]
    fn both_languages_have_the_same_domain_keys() {
        let mut sets = Vec::new();
        for (_, academy, _) in EMBEDDED {
            let v: toml::Value = toml::from_str(academy).unwrap();
            let mut keys = BTreeSet::new();
            flatten_keys(&v, "", &mut keys);
            sets.push(keys);
        }
        assert_eq!(sets[0], sets[1]);
        assert!(sets[0].contains("steps.1.question"));
    }

    #[test]
    fn a_missing_step_names_the_file_and_key() {
        let (disk, dir) = (MemoryDisk::default(), Path::new("/prompts"));
        copy_prompts(&disk, dir);
        let path = dir.join("en/academy.toml");
        let src = disk.read_to_string(&path).unwrap();
        let cut = src.replace("[steps.3]", "[unused_steps_3]");
        disk.write_private(&path, cut.as_bytes()).unwrap();
        let err = Catalog::load(&Source::Folder(dir.to_owned()), &disk)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("en/academy.toml"), "{err}");
        assert!(
            err.contains("unused_steps_3") || err.contains("steps.3"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_message_names_the_file_and_key() {
        let (disk, dir) = (MemoryDisk::default(), Path::new("/prompts"));
        copy_prompts(&disk, dir);
        let path = dir.join("nl/messages.toml");
        let src = disk.read_to_string(&path).unwrap();
        let key = keys::ROUND_STARTED.rsplit('.').next().unwrap();
        let cut: String = src
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} =")))
            .collect::<Vec<_>>()
            .join("\n");
        disk.write_private(&path, cut.as_bytes()).unwrap();
        let err = Catalog::load(&Source::Folder(dir.to_owned()), &disk)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nl/messages.toml"), "{err}");
        assert!(err.contains(keys::ROUND_STARTED), "{err}");
    }

    #[test]
    fn a_malformed_template_names_the_file_and_key() {
        let (disk, dir) = (MemoryDisk::default(), Path::new("/prompts"));
        copy_prompts(&disk, dir);
        let path = dir.join("en/messages.toml");
        let mut src = disk.read_to_string(&path).unwrap();
        src = src.replace(
            "mine_title = \"Your answer in {{round}}\"",
            "mine_title = \"Your answer in {{#if round}}\"",
        );
        disk.write_private(&path, src.as_bytes()).unwrap();
        let err = Catalog::load(&Source::Folder(dir.to_owned()), &disk)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("en/messages.toml"), "{err}");
        assert!(err.contains("is not a valid template"), "{err}");
        assert!(err.contains("answer.mine_title"), "{err}");
    }

    #[test]
    fn no_message_uses_a_helper_name_as_a_variable() {
        // `{{len}}` renders the built-in helper, not our value: it failed once.
        const HELPERS: &[&str] = &[
            "len", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or", "not", "lookup", "log", "raw",
        ];
        for (lang, _, src) in EMBEDDED {
            let lang = lang.key();
            for h in HELPERS {
                assert!(
                    !src.contains(&format!("{{{{{h}}}}}")),
                    "{lang}: {{{{{h}}}}}"
                );
            }
        }
    }

    #[test]
    fn user_text_is_data_not_template() {
        let c = Catalog::embedded().unwrap();
        let out = c.render(
            Lang::En,
            keys::ANSWER_SAVED,
            &serde_json::json!({"round": "R1", "text": "{{academy}} <b>", "edited": false}),
        );
        assert!(out.contains("{{academy}} <b>"), "{out}");
    }
}
