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

/// The compiled templates.
pub struct Templates {
    html: Handlebars<'static>,
    markdown: Handlebars<'static>,
    style: String,
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
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(true);
        markdown.set_prevent_indent(true);
        markdown.register_escape_fn(escape_markdown);
        for (name, default, escape) in TEMPLATES {
            let source = match dir.map(|d| d.join(format!("{name}.hbs"))) {
                Some(path) if disk.exists(&path) => disk
                    .read_to_string(&path)
                    .with_context(|| format!("cannot read the template {}", path.display()))?,
                _ => (*default).to_owned(),
            };
            let registry = match escape {
                Escape::Html => &mut html,
                Escape::Markdown => &mut markdown,
            };
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
        Ok(Templates {
            html,
            markdown,
            style,
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

    pub fn style(&self) -> &str {
        &self.style
    }
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
