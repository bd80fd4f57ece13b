//! Digest rendering against its floor: a digest of 1,000 lessons (a few dozen as a smoke pass)
//! rendered to every format it is published in — the HTML page, the Markdown and the chat
//! text — through the handlebars templates, and by a renderer written with plain `write!`
//! that produces the same bytes.
//!
//! Target from the performance issue: at most 20× the plain renderer. Both sides build the
//! same figures (the same code), so the ratio is about templating. The bytes are compared
//! before anything is timed, in smoke mode too: a floor that printed something else would
//! measure nothing.

mod support;

use academie::domain::*;
use academie::site::{self, escape_markdown, PublishedDigest, PublishedLesson, Templates};
use academie::text::{keys, Catalog};
use chrono::{TimeZone, Utc};
use std::fmt::Write;
use support::corpus;

const SEED: u64 = 2026;

/// A digest as a moderator would publish it: approved lessons, featured first within each
/// order, some with user text that HTML and Markdown must escape.
fn digest(n: usize) -> PublishedDigest {
    let mut lessons: Vec<Lesson> = corpus::lessons(n * 2, SEED)
        .into_iter()
        .filter(Lesson::is_public)
        .take(n)
        .collect();
    for (i, l) in lessons.iter_mut().enumerate() {
        if i % 10 == 0 {
            l.text.title = format!("# {} & <regio> *snel* [1] `x` \"q\" 'a' =", l.text.title);
            l.text.lesson = format!("- {}\n1. twee > drie | vier ~ vijf", l.text.lesson);
        }
    }
    lessons.sort_by_key(|l| (l.order, !l.featured, l.id));
    let lessons = lessons
        .into_iter()
        .map(|l| PublishedLesson {
            by: match (l.attribution, l.author_layer) {
                _ if l.key.is_some() => Some("de Academie (bibliotheek)".into()),
                (Attribution::Named, _) => l.author_name.clone(),
                (Attribution::Layer, Some(_)) => Some("iemand van een gemeente".into()),
                _ => None,
            },
            applied: (l.id.0 % 4) as usize,
            notes: Vec::new(),
            edited_since: false,
            lesson: l,
        })
        .collect::<Vec<_>>();
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 10, 0, 0).unwrap();
    PublishedDigest {
        digest: Digest {
            id: DigestId(7),
            title: "Lessen uit de regio's <2025> & verder".into(),
            lang: Lang::Nl,
            channel: Some(corpus::CHANNELS[0]),
            filter: DigestFilter {
                from: chrono::NaiveDate::from_ymd_opt(2019, 1, 1),
                to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31),
                ..DigestFilter::default()
            },
            lessons: lessons.iter().map(|p| p.lesson.id).collect(),
            status: DigestStatus::Published,
            composed_by: Some(UserId(7)),
            composed_at: at,
            published_at: Some(at),
            as_published: Vec::new(),
        },
        lessons,
        zone: academie::time::DEFAULT_ZONE,
    }
}

/// The three formats, through the templates.
fn templated(catalog: &Catalog, templates: &Templates, d: &PublishedDigest) -> [String; 3] {
    let (html, md) = site::digest_page(catalog, templates, d).expect("digest page");
    let chat = site::chat(catalog, templates, d).expect("chat");
    [html, md, chat]
}

/// What the templates see of a lesson, in the form the plain renderer needs.
struct View<'a> {
    id: String,
    title: &'a str,
    happened: &'a str,
    lesson: &'a str,
    by: Option<&'a str>,
    steps: String,
    perspective: Option<&'a str>,
    tags: &'a [String],
    featured: bool,
    applied: usize,
}

struct Group<'a> {
    label: String,
    lessons: Vec<View<'a>>,
}

struct OrderGroup<'a> {
    name: &'a str,
    short: &'a str,
    count: usize,
    steps: Vec<Group<'a>>,
}

fn groups<'a>(catalog: &'a Catalog, d: &'a PublishedDigest) -> Vec<OrderGroup<'a>> {
    let lang = d.digest.lang;
    let a = catalog.academy(lang);
    let mut out = Vec::new();
    for order in Order::ALL {
        let in_order: Vec<&PublishedLesson> = d
            .lessons
            .iter()
            .filter(|p| p.lesson.order == *order)
            .collect();
        if in_order.is_empty() {
            continue;
        }
        let mut steps = Vec::new();
        for step in Step::ALL.iter().map(Some).chain([None]) {
            let lessons: Vec<View> = in_order
                .iter()
                .filter(|p| p.lesson.steps.iter().min() == step)
                .map(|p| {
                    let l = &p.lesson;
                    let text = l.text_for(lang);
                    let mut steps = String::new();
                    for (i, s) in l.steps.iter().enumerate() {
                        if i > 0 {
                            steps.push_str(", ");
                        }
                        write!(steps, "{}", s.number()).unwrap();
                    }
                    View {
                        id: l.id.to_string(),
                        title: &text.title,
                        happened: &text.happened,
                        lesson: &text.lesson,
                        by: p.by.as_deref().filter(|b| !b.is_empty()),
                        steps,
                        perspective: l.perspective.map(|x| a.perspective(x).name.as_str()),
                        tags: &l.tags,
                        featured: l.featured,
                        applied: p.applied,
                    }
                })
                .collect();
            if lessons.is_empty() {
                continue;
            }
            let label = match step {
                Some(s) => catalog.render(
                    lang,
                    keys::STEP_LABEL,
                    &serde_json::json!({"number": s.number(), "short": a.step(*s).short}),
                ),
                None => catalog.plain(lang, keys::SITE_NO_STEP),
            };
            steps.push(Group { label, lessons });
        }
        let o = a.order(*order);
        out.push(OrderGroup {
            name: &o.name,
            short: &o.short,
            count: in_order.len(),
            steps,
        });
    }
    out
}

/// The floor: the same three texts, written out by hand.
fn plain(catalog: &Catalog, d: &PublishedDigest) -> [String; 3] {
    let lang = d.digest.lang;
    let label = |key: &str| catalog.plain(lang, key);
    let h = |s: &str| handlebars::html_escape(s);
    let m = |s: &str| escape_markdown(s);
    let academy = &catalog.academy(lang).academy.name;
    let groups = groups(catalog, d);
    let figures = site::figures_for(catalog, d);
    let title = &d.digest.title;
    let id = d.digest.id;
    let at = d.digest.published_at.unwrap_or(d.digest.composed_at);
    let date = academie::time::date(d.digest.lang, d.zone, at);
    let updated = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let day = |x| academie::time::day(d.digest.lang, x);
    let period = match (d.digest.filter.from, d.digest.filter.to) {
        (None, None) => None,
        (from, to) => Some(format!(
            "{} – {}",
            from.map(day).unwrap_or_default(),
            to.map(day).unwrap_or_default()
        )),
    };
    let count = d.lessons.len();
    let lessons_word = label(if count == 1 {
        keys::SITE_LESSON_ONE
    } else {
        keys::SITE_LESSON_MANY
    });
    let (by, steps_label, applied) = (
        label(keys::SITE_BY),
        label(keys::SITE_STEPS),
        label(keys::SITE_APPLIED),
    );
    let (happened, the_lesson, featured) = (
        label(keys::SITE_HAPPENED),
        label(keys::SITE_THE_LESSON),
        label(keys::SITE_FEATURED),
    );
    let tags_label = label(keys::SITE_TAGS);
    let step_label = label(keys::SITE_STEP);

    let mut html = String::with_capacity(4 << 20);
    let root = "../";
    let feed = h(&label(keys::SITE_FEED));
    write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — {}</title>\n<link rel=\"stylesheet\" href=\"{root}style.css\">\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"{root}feed.atom\" title=\"{feed}\">\n\
         </head>\n<body>\n<a class=\"skip\" href=\"#main\">{}</a>\n<header>\n\
         <p class=\"site\"><a href=\"{root}index.html\">{}</a></p>\n\
         <nav aria-label=\"{}\"><a href=\"{root}index.html\">{}</a> · \
         <a href=\"{}\" type=\"text/markdown\">{}</a> · <a href=\"{root}feed.atom\">{feed}</a></nav>\n\
         </header>\n<main id=\"main\">\n<article class=\"digest\">\n<h1 dir=\"auto\">{}</h1>\n\
         <p class=\"meta\">{} <time datetime=\"{updated}\">{date}</time>",
        lang.key(),
        h(title),
        h(academy),
        h(&label(keys::SITE_SKIP)),
        h(academy),
        h(&label(keys::SITE_NAVIGATION)),
        h(&label(keys::SITE_ALL_DIGESTS)),
        h(&format!("{id}.md")),
        h(&label(keys::SITE_MARKDOWN)),
        h(title),
        h(&label(keys::SITE_PUBLISHED)),
    )
    .unwrap();
    if let Some(p) = &period {
        write!(html, " · {} {}", h(&label(keys::SITE_PERIOD)), h(p)).unwrap();
    }
    write!(
        html,
        " · {count} {}</p>\n<nav class=\"contents\" aria-label=\"{}\">\n<ul>\n",
        h(&lessons_word),
        h(&label(keys::SITE_CONTENTS))
    )
    .unwrap();
    for (i, o) in groups.iter().enumerate() {
        writeln!(
            html,
            "<li><a href=\"#order-{i}\">{}</a> ({})</li>",
            h(o.name),
            o.count
        )
        .unwrap();
    }
    html.push_str("</ul>\n</nav>\n");
    for (i, o) in groups.iter().enumerate() {
        write!(
            html,
            "<section class=\"order\" id=\"order-{i}\">\n<h2>{} <span class=\"short\">— {}</span> \
             <span class=\"count\">({})</span></h2>\n",
            h(o.name),
            h(o.short),
            o.count
        )
        .unwrap();
        for g in &o.steps {
            write!(
                html,
                "<section class=\"step\">\n<h3>{} <span class=\"count\">({})</span></h3>\n",
                h(&g.label),
                g.lessons.len()
            )
            .unwrap();
            for v in &g.lessons {
                let f = if v.featured { " featured" } else { "" };
                write!(
                    html,
                    "<article class=\"lesson{f}\" id=\"{}\">\n<h4 dir=\"auto\"><a href=\"{}\">{}</a>",
                    h(&v.id),
                    h(&format!("{root}lessons/{}.html", v.id)),
                    h(v.title)
                )
                .unwrap();
                if v.featured {
                    write!(html, " <span class=\"badge\">{}</span>", h(&featured)).unwrap();
                }
                write!(html, "</h4>\n<p class=\"meta\">{}", h(&v.id)).unwrap();
                if let Some(b) = v.by {
                    write!(html, " · {} <bdi>{}</bdi>", h(&by), h(b)).unwrap();
                }
                if !v.steps.is_empty() {
                    let label = if v.steps.contains(',') {
                        &steps_label
                    } else {
                        &step_label
                    };
                    write!(html, " · {} {}", h(label), h(&v.steps)).unwrap();
                }
                if let Some(p) = v.perspective {
                    write!(html, " · {}", h(p)).unwrap();
                }
                if v.applied > 0 {
                    write!(html, " · {}× {}", v.applied, h(&applied)).unwrap();
                }
                write!(
                    html,
                    "</p>\n<h5>{}</h5>\n<p class=\"text\" dir=\"auto\">{}</p>\n\
                     <h5>{}</h5>\n<p class=\"text\" dir=\"auto\">{}</p>\n",
                    h(&happened),
                    h(v.happened),
                    h(&the_lesson),
                    h(v.lesson)
                )
                .unwrap();
                if !v.tags.is_empty() {
                    write!(
                        html,
                        "<ul class=\"tags\" aria-label=\"{}\">",
                        h(&tags_label)
                    )
                    .unwrap();
                    for t in v.tags {
                        write!(html, "<li>{}</li>", h(t)).unwrap();
                    }
                    html.push_str("</ul>\n");
                }
                html.push_str("</article>\n");
            }
            html.push_str("</section>\n");
        }
        html.push_str("</section>\n");
    }
    write!(
        html,
        "<section class=\"figures\">\n<h2>{}</h2>\n<figure>\n{}\n</figure>\n<figure>\n{}\n\
         <figcaption>{}</figcaption>\n</figure>\n</section>\n</article>\n</main>\n\
         <footer><p>{}</p></footer>\n</body>\n</html>\n",
        h(&label(keys::SITE_FIGURES)),
        figures.quadrant_svg,
        figures.doing_learning_svg,
        h(&label(keys::SITE_FIGURE_DOING_CAPTION)),
        h(&label(keys::SITE_FOOTER)),
    )
    .unwrap();

    let mut md = String::with_capacity(2 << 20);
    write!(
        md,
        "# {}\n\n{} {}",
        m(title),
        m(&label(keys::SITE_PUBLISHED)),
        m(&date)
    )
    .unwrap();
    if let Some(p) = &period {
        write!(md, " · {} {}", m(&label(keys::SITE_PERIOD)), m(p)).unwrap();
    }
    writeln!(md, " · {count} {}", m(&lessons_word)).unwrap();
    for o in &groups {
        write!(md, "\n## {} — {} ({})\n", m(o.name), m(o.short), o.count).unwrap();
        for g in &o.steps {
            write!(md, "\n### {} ({})\n", m(&g.label), g.lessons.len()).unwrap();
            for v in &g.lessons {
                write!(md, "\n#### {}", m(v.title)).unwrap();
                if v.featured {
                    write!(md, " ★ {}", m(&featured)).unwrap();
                }
                write!(md, "\n\n{}", m(&v.id)).unwrap();
                if let Some(b) = v.by {
                    write!(md, " · {} {}", m(&by), m(b)).unwrap();
                }
                if !v.steps.is_empty() {
                    let label = if v.steps.contains(',') {
                        &steps_label
                    } else {
                        &step_label
                    };
                    write!(md, " · {} {}", m(label), m(&v.steps)).unwrap();
                }
                if let Some(p) = v.perspective {
                    write!(md, " · {}", m(p)).unwrap();
                }
                if v.applied > 0 {
                    write!(md, " · {}× {}", v.applied, m(&applied)).unwrap();
                }
                write!(
                    md,
                    "\n\n**{}**\n\n{}\n\n**{}**\n\n{}\n",
                    m(&happened),
                    m(v.happened),
                    m(&the_lesson),
                    m(v.lesson)
                )
                .unwrap();
                if !v.tags.is_empty() {
                    write!(md, "\n{}: ", m(&tags_label)).unwrap();
                    for (i, t) in v.tags.iter().enumerate() {
                        if i > 0 {
                            md.push_str(", ");
                        }
                        md.push_str(&m(t));
                    }
                    md.push('\n');
                }
            }
        }
    }

    let mut chat = String::with_capacity(1 << 20);
    write!(
        chat,
        "{} {count} {}",
        m(&label(keys::SITE_CONTAINS)),
        m(&lessons_word)
    )
    .unwrap();
    if let Some(p) = &period {
        write!(chat, " ({})", m(p)).unwrap();
    }
    writeln!(chat, ". {}", m(&label(keys::SITE_READ_MORE))).unwrap();
    for o in &groups {
        write!(chat, "\n**{} — {} ({})**\n", m(o.name), m(o.short), o.count).unwrap();
        for g in &o.steps {
            write!(chat, "\n__{} ({})__\n", m(&g.label), g.lessons.len()).unwrap();
            for v in &g.lessons {
                write!(chat, "\n**{}** ({})", m(v.title), m(&v.id)).unwrap();
                if v.featured {
                    chat.push_str(" ★");
                }
                if let Some(b) = v.by {
                    write!(chat, " — {}", m(b)).unwrap();
                }
                if v.applied > 0 {
                    write!(chat, " · {}× {}", v.applied, m(&applied)).unwrap();
                }
                writeln!(chat, "\n{}", m(v.lesson)).unwrap();
            }
        }
    }
    [html, md, chat]
}

pub fn main() -> anyhow::Result<()> {
    let n = support::size(1_000, 40);
    let rounds = support::size(60, 2);
    let catalog = Catalog::embedded()?;
    let templates = Templates::shared();
    let d = digest(n);
    assert_eq!(d.lessons.len(), n, "the corpus has enough approved lessons");

    let want = templated(&catalog, &templates, &d);
    let got = plain(&catalog, &d);
    for ((name, want), got) in ["digest.html", "digest.md", "digest.chat"]
        .iter()
        .zip(&want)
        .zip(&got)
    {
        if want != got {
            let at = want
                .bytes()
                .zip(got.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            let from = at.saturating_sub(80);
            panic!(
                "{name}: the plain renderer differs at byte {at}:\ntemplate: {:?}\nplain:    {:?}",
                &want.get(from..(at + 80).min(want.len())),
                &got.get(from..(at + 80).min(got.len()))
            );
        }
    }
    let bytes: usize = want.iter().map(String::len).sum();

    let (floor, subject) = support::interleave(
        rounds,
        || support::time(|| plain(&catalog, &d)).0,
        || support::time(|| templated(&catalog, &templates, &d)).0,
    );
    let ratio = support::ratio(subject.p50(), floor.p50());
    support::header(&format!(
        "Digest of {n} lessons to HTML, Markdown and chat ({} KB)",
        bytes / 1024
    ));
    support::report(
        "templates vs plain write!, p50",
        &format!(
            "{ratio:.1}× ({} vs {})",
            support::show(subject.p50()),
            support::show(floor.p50())
        ),
        "≤ 20×",
        ratio <= 20.0,
    );
    println!(
        "\np99: templates {}, plain {} ({:.1}×), over {rounds} rounds",
        support::show(subject.p99()),
        support::show(floor.p99()),
        support::ratio(subject.p99(), floor.p99())
    );
    Ok(())
}
