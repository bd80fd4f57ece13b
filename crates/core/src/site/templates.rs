//! The digest templates: built into the binary, each one replaceable by a file of the same name
//! in a configured folder, compiled in strict mode at start so a broken template stops start-up
//! rather than a publication.
//!
//! User text only ever enters as data. HTML (and the Atom feed) escape it as HTML; Markdown and
//! the chat form backslash-escape every character Markdown gives meaning to, so a lesson can
//! neither inject markup nor break the page's structure.

use crate::disk::Disk;
use anyhow::{anyhow, Context, Result};
use handlebars::Handlebars;
use serde::Serialize;
use std::path::Path;

/// How a template's output treats the text put into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    Html,
    Markdown,
}

/// Every template, its embedded default and its escaping.
const TEMPLATES: &[(&str, &str, Escape)] = &[
    (
        "digest.html",
        include_str!("../../../../prompts/templates/digest.html.hbs"),
        Escape::Html,
    ),
    (
        "index.html",
        include_str!("../../../../prompts/templates/index.html.hbs"),
        Escape::Html,
    ),
    (
        "lesson.html",
        include_str!("../../../../prompts/templates/lesson.html.hbs"),
        Escape::Html,
    ),
    (
        "feed.atom",
        include_str!("../../../../prompts/templates/feed.atom.hbs"),
        Escape::Html,
    ),
    (
        "digest.md",
        include_str!("../../../../prompts/templates/digest.md.hbs"),
        Escape::Markdown,
    ),
    (
        "digest.chat",
        include_str!("../../../../prompts/templates/digest.chat.hbs"),
        Escape::Markdown,
    ),
    (
        "meeting.html",
        include_str!("../../../../prompts/templates/meeting.html.hbs"),
        Escape::Html,
    ),
    (
        "meeting.md",
        include_str!("../../../../prompts/templates/meeting.md.hbs"),
        Escape::Markdown,
    ),
];

/// The style sheet of the site, replaceable like the templates.
const STYLE: &str = include_str!("../../../../prompts/templates/style.css");

/// The digest templates that are also kept cut around their lesson loop (see [`split`]).
const SPLIT: [&str; 2] = ["digest.html", "digest.md"];

/// Where a digest template cut by [`split`] had a step's lessons. No template text or escaped
/// value holds it; a page whose outline holds it anyway is rendered whole. It ends its line,
/// so a tag alone on the next line stays alone, as it was after the loop's last line.
pub(super) const LESSONS_MARK: &str = "\u{1}academie:lessons\u{1}\n";

/// The compiled templates.
pub struct Templates {
    html: Handlebars<'static>,
    markdown: Handlebars<'static>,
    style: String,
    /// Per template of [`SPLIT`] that could be cut: whether its parts render the same bytes
    /// as the whole template, found at its first use (it needs the texts, which loading has
    /// not).
    agrees: [std::sync::OnceLock<bool>; 2],
    cut: [bool; 2],
    /// How many bytes to leave out at the start of what the lesson loop alone renders.
    skips: [usize; 2],
    /// A checksum of every template's source and the style sheet: pages written with other
    /// templates differ.
    fingerprint: u32,
}

/// The two parts of a digest template cut by [`split`].
pub(super) struct Parts {
    /// The page with [`LESSONS_MARK`] where each step's lessons go.
    pub outline: String,
    /// The lesson loop alone: renders the `lessons` it is given.
    pub lessons: String,
    /// How many bytes of what `lessons` renders come before the lessons.
    pub skip: usize,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// The built-in templates.
    pub fn embedded() -> Result<Templates> {
        Templates::load(None, &crate::disk::MemoryDisk::default())
    }

    /// A checksum of the templates' sources and the style sheet, the same in every process
    /// that loads the same files.
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// The built-in templates, compiled once per process and shared.
    pub fn shared() -> std::sync::Arc<Templates> {
        static SHARED: std::sync::OnceLock<std::sync::Arc<Templates>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                // The built-in templates compile: a unit test proves it for every build.
                std::sync::Arc::new(Templates::embedded().expect("the built-in templates compile"))
            })
            .clone()
    }

    /// The built-in templates, with any `<name>.hbs` (and `style.css`) in `dir` taking their
    /// place. A template that does not compile is named in the error.
    pub fn load(dir: Option<&Path>, disk: &dyn Disk) -> Result<Templates> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.set_prevent_indent(true);
        html.register_escape_fn(handlebars::html_escape);
        let mut cut = [false; 2];
        let mut skips = [0; 2];
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(true);
        markdown.set_prevent_indent(true);
        markdown.register_escape_fn(escape_markdown);
        let mut fingerprint = crc32fast::Hasher::new();
        for (name, default, escape) in TEMPLATES {
            let source = match dir.map(|d| d.join(format!("{name}.hbs"))) {
                Some(path) if disk.exists(&path) => disk
                    .read_to_string(&path)
                    .with_context(|| format!("cannot read the template {}", path.display()))?,
                _ => (*default).to_owned(),
            };
            fingerprint.update(name.as_bytes());
            fingerprint.update(&[0]);
            fingerprint.update(source.as_bytes());
            fingerprint.update(&[0]);
            let registry = match escape {
                Escape::Html => &mut html,
                Escape::Markdown => &mut markdown,
            };
            if let (Some(at), Some((outline, lessons, skip))) =
                (SPLIT.iter().position(|n| n == name), split(&source))
            {
                // A cut that does not compile is not used: the whole template still is.
                cut[at] = registry
                    .register_template_string(&format!("{name}#outline"), outline)
                    .and_then(|()| {
                        registry.register_template_string(&format!("{name}#lessons"), lessons)
                    })
                    .is_ok();
                skips[at] = skip;
            }
            registry
                .register_template_string(name, source)
                .map_err(|e| anyhow!("the template {name}.hbs does not compile: {e}"))?;
        }
        let style = match dir.map(|d| d.join("style.css")) {
            Some(path) if disk.exists(&path) => disk
                .read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            _ => STYLE.to_owned(),
        };
        fingerprint.update(style.as_bytes());
        Ok(Templates {
            fingerprint: fingerprint.finalize(),
            html,
            markdown,
            style,
            agrees: Default::default(),
            cut,
            skips,
        })
    }

    /// The two parts of `name` (a template of [`SPLIT`]). `None` when the template
    /// could not be cut, or its parts were found to render other bytes than the whole
    /// (`agrees` finds that once, from a sample digest).
    pub(super) fn parts(&self, name: &str, agrees: impl FnOnce() -> bool) -> Option<Parts> {
        let at = SPLIT.iter().position(|n| *n == name)?;
        let cut = self.cut(name)?;
        self.agrees[at].get_or_init(agrees).then_some(cut)
    }

    /// The two parts of `name`, if it could be cut, whether or not they agree with it.
    pub(super) fn cut(&self, name: &str) -> Option<Parts> {
        let at = SPLIT.iter().position(|n| *n == name)?;
        self.cut[at].then(|| Parts {
            outline: format!("{name}#outline"),
            lessons: format!("{name}#lessons"),
            skip: self.skips[at],
        })
    }

    /// Renders one template with `data`.
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String> {
        let registry = if self.html.has_template(name) {
            &self.html
        } else {
            &self.markdown
        };
        registry
            .render(name, data)
            .map_err(|e| anyhow!("the template {name}.hbs failed: {e}"))
    }

    /// Renders as [`Templates::render`] does, straight into `out`.
    pub fn render_to(
        &self,
        name: &str,
        data: &impl Serialize,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        let registry = if self.html.has_template(name) {
            &self.html
        } else {
            &self.markdown
        };
        registry
            .render_to_write(name, data, out)
            .map_err(|e| anyhow!("the template {name}.hbs failed: {e}"))
    }

    pub fn style(&self) -> &str {
        &self.style
    }
}

/// A digest template cut around its one lesson loop, so a digest of any size can be rendered
/// a step's lessons at a time: the template with the loop replaced by [`LESSONS_MARK`], and
/// the loop alone (`{{#each lessons}}…{{/each}}`), which renders the lessons given to it as
/// the whole template renders them in their step. A tag alone on its line takes that line
/// with it, as handlebars does, so the two parts add up to the same bytes.
///
/// Cut only when nothing can tell the parts from the whole: the loop is the only place that
/// names `lessons`, it sits directly in `{{#each steps}}` in `{{#each orders}}`, and its body
/// reads no enclosing context (`../`, `@root.orders`) or position (`@index`, `@first`,
/// `@last`, `@key`), uses no partial, no `else` of the loop and no whitespace control. Any
/// other template is rendered whole, as before. What the parts render is also compared with
/// the whole template once before they are used ([`Templates::parts`]).
fn split(source: &str) -> Option<(String, String, usize)> {
    const OPEN: &str = "{{#each lessons}}";
    const CLOSE: &str = "{{/each}}";
    if source.matches("lessons").count() != 1
        || ["{{~", "~}}", "{{!", "{{{{", "{{>", "{{#>", "{{*"]
            .iter()
            .any(|x| source.contains(x))
    {
        return None;
    }
    let a = source.find(OPEN)?;
    let b = a + OPEN.len();
    // The blocks open where the loop starts.
    let mut open: Vec<&str> = Vec::new();
    let mut at = 0;
    while let Some(i) = source[at..a].find("{{") {
        let start = at + i;
        let end = start + source[start..].find("}}")? + 2;
        let tag = &source[start + 2..end - 2];
        if let Some(name) = tag.strip_prefix('#').or_else(|| tag.strip_prefix('^')) {
            open.push(name.trim());
        } else if tag.starts_with('/') {
            open.pop()?;
        }
        at = end;
    }
    if open != ["each orders", "each steps"] {
        return None;
    }
    // The end of the loop: the `{{/each}}` at its own depth.
    let mut depth = 0usize;
    let mut at = b;
    let c = loop {
        let start = at + source[at..].find("{{")?;
        let end = start + source[start..].find("}}")? + 2;
        let tag = &source[start + 2..end - 2];
        if tag.starts_with('#') || tag.starts_with('^') {
            depth += 1;
        } else if tag.starts_with('/') {
            if depth == 0 {
                break start;
            }
            depth -= 1;
        } else if depth == 0 && tag.trim_start().starts_with("else") {
            return None;
        }
        at = end;
    };
    if !source[c..].starts_with(CLOSE) {
        return None;
    }
    let d = c + CLOSE.len();
    let body = &source[b..c];
    // The body outside the loops nested in it, where `@index` and the like are the lesson's.
    let mut own = String::new();
    let mut loops: Vec<bool> = Vec::new();
    let mut at = 0;
    while let Some(i) = body[at..].find("{{") {
        let start = at + i;
        let end = start + body[start..].find("}}")? + 2;
        if !loops.contains(&true) {
            own.push_str(&body[at..end]);
        }
        let tag = &body[start + 2..end - 2];
        if let Some(name) = tag.strip_prefix('#').or_else(|| tag.strip_prefix('^')) {
            loops.push(name.trim_start().starts_with("each"));
        } else if tag.starts_with('/') {
            loops.pop();
        }
        at = end;
    }
    own.push_str(&body[at..]);
    if ["../", "@root.orders"].iter().any(|x| body.contains(x))
        || ["@index", "@first", "@last", "@key"]
            .iter()
            .any(|x| own.contains(x))
    {
        return None;
    }
    // A tag alone on its line: the blanks before it on the line and the line's end after it go.
    let blank = |s: &str| s.chars().all(|c| c == ' ' || c == '\t');
    let alone = |start: usize, end: usize| -> Option<(usize, usize)> {
        let line = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let rest = &source[end..];
        let eol = rest.find('\n')?;
        (blank(&source[line..start]) && blank(rest[..eol].trim_end_matches('\r')))
            .then_some((line, end + eol + 1))
    };
    let open_alone = alone(a, b);
    let before = open_alone.map_or(a, |(line, _)| line);
    let after = alone(c, d).map_or(d, |(_, next)| next);
    let outline = format!("{}{LESSONS_MARK}{}", &source[..before], &source[after..]);
    // The loop alone, with its tags on lines of their own as they stand in the template, so
    // handlebars treats the lines around them as it does there; a tag alone on the first line
    // of a template is not seen as alone, so a line is put before it, and skipped in what the
    // loop renders.
    let skip = usize::from(open_alone.is_some());
    let lessons = format!("{}{}", &"\n"[..skip], &source[before..after]);
    Some((outline, lessons, skip))
}

/// Backslash-escapes what Markdown (CommonMark, and Discord's dialect) would read as markup, so
/// user text stays text: inline markers everywhere, block markers at the start of a line. Line
/// breaks are kept: they are the writer's paragraphs.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        // A line that would open a heading, quote, list or rule.
        let digits = body.chars().take_while(char::is_ascii_digit).count();
        // ('>' is escaped wherever it stands, below.)
        if matches!(body.chars().next(), Some('#' | '-' | '+' | '=')) {
            out.push('\\');
        }
        for (n, c) in body.chars().enumerate() {
            let ordered_list = digits > 0 && n == digits && matches!(c, '.' | ')');
            if ordered_list
                || matches!(
                    c,
                    '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~'
                )
            {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_compiles() {
        Templates::embedded().expect("templates");
    }

    #[test]
    fn markdown_escaping_leaves_no_markup() {
        let hostile = "# kop\n* lijst\n[link](http://x) `code` <b>vet</b> ~~weg~~ | tabel |";
        let escaped = escape_markdown(hostile);
        assert!(escaped.starts_with("\\# kop"));
        assert!(escaped.contains("\\[link\\](http://x)"));
        assert_eq!(
            escape_markdown("1. een\n  - twee\n2026-11-29"),
            "1\\. een\n  \\- twee\n2026-11-29"
        );
        assert!(escaped.contains("\\<b\\>"));
    }

    #[test]
    fn a_broken_override_is_named() {
        let (disk, dir) = (crate::disk::MemoryDisk::default(), Path::new("/templates"));
        disk.write_private(&dir.join("digest.md.hbs"), b"{{#if}}")
            .expect("write");
        let err = Templates::load(Some(dir), &disk).expect_err("refused");
        assert!(err.to_string().contains("digest.md.hbs"), "{err}");
    }

    #[test]
    fn user_text_is_never_compiled() {
        let t = Templates::embedded().expect("templates");
        let catalog = crate::text::Catalog::embedded().expect("catalog");
        let out = t
            .render(
                "digest.md",
                &crate::site::view::tests::sample_view(&catalog, "{{digest.title}}"),
            )
            .expect("render");
        // The title is shown as typed, not evaluated.
        assert!(out.contains("{{digest.title}}"), "{out}");
    }
}
