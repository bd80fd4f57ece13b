//! The data the digest templates see, and the whole site built from it.
//!
//! Lessons are grouped by learning order and then by design step, each group with its count. A
//! lesson with several steps is listed under its first, so it appears once; its other steps are
//! in its line. Nothing here reads a clock: dates come from the records, so a rebuild of the
//! same database is byte-identical.

use super::Templates;
use crate::domain::{
    ChannelId, Digest, DigestId, Lang, Lesson, LessonId, Order, Perspective, Step,
};
use crate::figures::{self, DoingLearningFigure, QuadrantFigure};
use crate::text::{keys, Catalog};
use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The site as file names (relative, with `/`) and their bytes.
pub type SiteFiles = BTreeMap<String, Vec<u8>>;

/// A lesson as it appears in a published digest.
#[derive(Clone, Debug)]
pub struct PublishedLesson {
    pub lesson: Lesson,
    /// How the author is credited, in the digest's language; `None` for an anonymous lesson.
    pub by: Option<String>,
    /// How often members said they applied it.
    pub applied: usize,
    /// What members wrote when they applied it, newest first: (date, note).
    pub notes: Vec<(String, String)>,
    /// Changed since this digest published it; what is shown is the published version.
    pub edited_since: bool,
}

/// A published digest with its lessons, in the digest's order.
#[derive(Clone, Debug)]
pub struct PublishedDigest {
    pub digest: Digest,
    pub lessons: Vec<PublishedLesson>,
    /// The time zone of its collaboration: its dates are that zone's days.
    pub zone: chrono_tz::Tz,
}

/// The figures of one digest, as inline SVG with their text equivalents.
#[derive(Clone, Debug, Serialize)]
pub struct Figures {
    pub quadrant_svg: String,
    pub quadrant_alt: String,
    pub doing_learning_svg: String,
    pub doing_learning_alt: String,
}

#[derive(Clone, Debug, Serialize)]
struct NoteView {
    date: String,
    note: String,
}

#[derive(Clone, Debug, Serialize)]
struct LessonView {
    id: String,
    href: String,
    title: String,
    happened: String,
    lesson: String,
    by: Option<String>,
    /// The learning order's name.
    order: String,
    steps: Option<String>,
    /// More than one step: "stappen 1, 3" rather than "stap 1".
    steps_many: bool,
    perspective: Option<String>,
    tags: Vec<String>,
    featured: bool,
    source: Option<String>,
    applied: usize,
    notes: Vec<NoteView>,
    edited_since: bool,
}

#[derive(Clone, Debug, Serialize)]
struct StepGroup {
    label: String,
    count: usize,
    lessons: Vec<LessonView>,
}

#[derive(Clone, Debug, Serialize)]
struct OrderGroup {
    name: String,
    short: String,
    count: usize,
    steps: Vec<StepGroup>,
}

/// What every page's template sees besides its own content: the language, the academy's name,
/// the `site.*` texts and the way back to the site's root.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Frame<'a> {
    lang: &'static str,
    academy: &'a str,
    labels: Map<String, Value>,
    root: &'a str,
}

impl<'a> Frame<'a> {
    pub(super) fn new(catalog: &'a Catalog, lang: Lang, root: &'a str) -> Frame<'a> {
        Frame {
            lang: lang.key(),
            academy: &catalog.academy(lang).academy.name,
            labels: labels(catalog, lang),
            root,
        }
    }

    /// A `site.*`-like text only some pages have, under its own name.
    pub(super) fn label(&mut self, name: &str, text: String) {
        self.labels.insert(name.to_owned(), Value::String(text));
    }
}

/// A digest's page, Markdown and chat text.
#[derive(Clone, Debug, Serialize)]
struct DigestData<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    digest: DigestHead,
    orders: Vec<OrderGroup>,
    figures: Figures,
}

#[derive(Clone, Debug, Serialize)]
struct DigestHead {
    id: String,
    title: String,
    date: String,
    /// RFC 3339, for the feed.
    updated: String,
    count: usize,
    period: Option<String>,
    html: String,
    md: String,
}

/// A lesson's page.
#[derive(Clone, Debug, Serialize)]
struct LessonData<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    lesson: LessonView,
    digests: Vec<AppearanceView>,
}

#[derive(Clone, Debug, Serialize)]
struct AppearanceView {
    id: String,
    title: String,
    href: String,
}

/// The index and the feed.
#[derive(Clone, Debug, Serialize)]
struct IndexData<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    digests: Vec<IndexLine>,
    /// The newest digest's `updated`, for the feed.
    updated: String,
}

#[derive(Clone, Debug, Serialize)]
struct IndexLine {
    id: String,
    title: String,
    lang: &'static str,
    date: String,
    updated: String,
    count: usize,
    html: String,
    md: String,
    summary: String,
}

/// The `site.*` texts of one language, by their name after `site.`.
fn labels(catalog: &Catalog, lang: Lang) -> Map<String, Value> {
    keys::ALL
        .iter()
        .filter_map(|k| k.strip_prefix("site.").map(|name| (name, *k)))
        .map(|(name, key)| (name.to_owned(), Value::String(catalog.plain(lang, key))))
        .collect()
}

/// A moment as the feed writes it (RFC 3339, in UTC, to the second).
fn feed_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn lesson_view(catalog: &Catalog, lang: Lang, p: &PublishedLesson, root: &str) -> LessonView {
    let l = &p.lesson;
    let text = l.text_for(lang);
    let steps: Vec<String> = l.steps.iter().map(|s| s.number().to_string()).collect();
    LessonView {
        id: l.id.to_string(),
        href: format!("{root}lessons/{}.html", l.id),
        title: text.title.clone(),
        happened: text.happened.clone(),
        lesson: text.lesson.clone(),
        by: p.by.clone(),
        order: catalog.academy(lang).order(l.order).name.clone(),
        steps_many: steps.len() > 1,
        steps: (!steps.is_empty()).then(|| steps.join(", ")),
        perspective: l
            .perspective
            .map(|x| catalog.academy(lang).perspective(x).name.clone()),
        tags: l.tags.clone(),
        featured: l.featured,
        source: l.source.clone(),
        applied: p.applied,
        notes: p
            .notes
            .iter()
            .map(|(date, note)| NoteView {
                date: date.clone(),
                note: note.clone(),
            })
            .collect(),
        edited_since: p.edited_since,
    }
}

fn groups(catalog: &Catalog, d: &PublishedDigest, root: &str) -> Vec<OrderGroup> {
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
        let first_step = |p: &PublishedLesson| p.lesson.steps.iter().min().copied();
        for step in Step::ALL.iter().map(Some).chain([None]) {
            let lessons: Vec<LessonView> = in_order
                .iter()
                .filter(|p| first_step(p).as_ref() == step)
                .map(|p| lesson_view(catalog, lang, p, root))
                .collect();
            if lessons.is_empty() {
                continue;
            }
            let label = match step {
                Some(s) => catalog.step_label(lang, *s),
                None => catalog.plain(lang, keys::SITE_NO_STEP),
            };
            steps.push(StepGroup {
                label,
                count: lessons.len(),
                lessons,
            });
        }
        let o = a.order(*order);
        out.push(OrderGroup {
            name: o.name.clone(),
            short: o.short.clone(),
            count: in_order.len(),
            steps,
        });
    }
    out
}

/// Figure 4 with the academy's own names for the perspectives; `counts` in the order of
/// [`Perspective::ALL`] (all zero: the plain figure of the essay).
pub fn quadrant(
    catalog: &Catalog,
    lang: Lang,
    title: String,
    caption: String,
    counts: [u32; 4],
) -> QuadrantFigure {
    let a = catalog.academy(lang);
    QuadrantFigure {
        title,
        caption,
        names: std::array::from_fn(|i| a.perspective(Perspective::ALL[i]).name.clone()),
        basic_forms: std::array::from_fn(|i| a.perspective(Perspective::ALL[i]).basic_form.clone()),
        counts,
    }
}

/// The digest's figures: where its lessons sit among the four perspectives, and doing and
/// learning.
pub fn figures_for(catalog: &Catalog, d: &PublishedDigest) -> Figures {
    let mut counts = [0u32; 4];
    for p in &d.lessons {
        if let Some(x) = p.lesson.perspective {
            counts[usize::from(x.byte())] += 1;
        }
    }
    figures_of(catalog, d.digest.lang, counts)
}

/// The digest's figures from how many of its lessons take each perspective.
fn figures_of(catalog: &Catalog, lang: Lang, counts: [u32; 4]) -> Figures {
    let a = catalog.academy(lang);
    let quadrant = quadrant(
        catalog,
        lang,
        catalog.plain(lang, keys::SITE_FIGURE_QUADRANT_TITLE),
        catalog.plain(lang, keys::SITE_FIGURE_QUADRANT_CAPTION),
        counts,
    );
    let dl = &a.doing_learning;
    let doing = DoingLearningFigure {
        title: dl.title.clone(),
        yield_axis: dl.yield_axis.clone(),
        lessons_axis: dl.lessons_axis.clone(),
        little: catalog.plain(lang, keys::SITE_LITTLE),
        much: catalog.plain(lang, keys::SITE_MUCH),
        few: catalog.plain(lang, keys::SITE_FEW),
        many: catalog.plain(lang, keys::SITE_MANY),
        cells: [
            dl.cells.little_few.clone(),
            dl.cells.little_many.clone(),
            dl.cells.much_few.clone(),
            dl.cells.much_many.clone(),
        ],
        counts: None,
        marks: Vec::new(),
        placed: String::new(),
    };
    Figures {
        quadrant_svg: figures::quadrant_svg(&quadrant),
        quadrant_alt: quadrant.alt_text(),
        doing_learning_svg: figures::doing_learning_svg(&doing),
        doing_learning_alt: doing.alt_text(),
    }
}

fn digest_data<'a>(catalog: &'a Catalog, d: &PublishedDigest, root: &'a str) -> DigestData<'a> {
    page_data(
        catalog,
        &d.digest,
        d.zone,
        d.lessons.len(),
        groups(catalog, d, root),
        figures_for(catalog, d),
        root,
    )
}

fn page_data<'a>(
    catalog: &'a Catalog,
    digest: &Digest,
    zone: chrono_tz::Tz,
    count: usize,
    orders: Vec<OrderGroup>,
    figures: Figures,
    root: &'a str,
) -> DigestData<'a> {
    let lang = digest.lang;
    let published = digest.published_at.unwrap_or(digest.composed_at);
    let day = |x: chrono::NaiveDate| crate::time::day(lang, x);
    // A period open at one end says so in words: "1-3-2026 – " reads as a date left out.
    let period = match (digest.filter.from, digest.filter.to) {
        (None, None) => None,
        (Some(from), Some(to)) => Some(format!("{} – {}", day(from), day(to))),
        (Some(from), None) => Some(catalog.render(
            lang,
            keys::DIGEST_PERIOD_FROM,
            &serde_json::json!({ "from": day(from) }),
        )),
        (None, Some(to)) => Some(catalog.render(
            lang,
            keys::DIGEST_PERIOD_UNTIL,
            &serde_json::json!({ "to": day(to) }),
        )),
    };
    DigestData {
        frame: Frame::new(catalog, lang, root),
        digest: DigestHead {
            id: digest.id.to_string(),
            title: digest.title.clone(),
            date: crate::time::date(lang, zone, published),
            updated: feed_time(published),
            count,
            period,
            html: format!("{}.html", digest.id),
            md: format!("{}.md", digest.id),
        },
        orders,
        figures,
    }
}

/// A digest's own page in the site, as [`build`] writes it: HTML and Markdown, from the
/// `digest.html` and `digest.md` templates.
pub fn digest_page(
    catalog: &Catalog,
    templates: &Templates,
    d: &PublishedDigest,
) -> Result<(String, String)> {
    let data = digest_data(catalog, d, "../");
    Ok((
        templates.render("digest.html", &data)?,
        templates.render("digest.md", &data)?,
    ))
}

/// The digest as chat text (Discord, the console), from the `digest.chat` template.
pub fn chat(catalog: &Catalog, templates: &Templates, d: &PublishedDigest) -> Result<String> {
    templates.render("digest.chat", &digest_data(catalog, d, ""))
}

/// What the index and the feed show of one published digest: enough to list it without
/// reading its lessons again, so a publication renders them from this list alone. Kept beside
/// the site between processes (`engine/site_state.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct IndexEntry {
    pub id: DigestId,
    pub title: String,
    pub lang: Lang,
    pub channel: Option<ChannelId>,
    pub published: DateTime<Utc>,
    /// The zone its date is shown in: its collaboration's when it was listed.
    #[serde(with = "zone_name")]
    pub zone: chrono_tz::Tz,
    /// How many lessons it shows.
    pub count: usize,
    /// Its lessons' titles, sorted and without repeats, in its language: the first
    /// [`SUMMARY_TITLES`], then `…` if there are more ([`summary`]).
    pub summary: String,
}

/// How many titles the index and the feed list of a digest. A digest may hold the whole
/// library: listed whole, its titles made the index page and the feed megabytes large, and
/// every change to the site wrote them again.
pub const SUMMARY_TITLES: usize = 20;

/// The index's summary of a digest from its titles, sorted and without repeats.
fn summary<'t>(titles: impl IntoIterator<Item = &'t str>) -> String {
    let mut titles = titles.into_iter();
    let mut shown: Vec<&str> = titles.by_ref().take(SUMMARY_TITLES).collect();
    if titles.next().is_some() {
        shown.push("…");
    }
    shown.join(" · ")
}

/// A time zone by its name (`Europe/Amsterdam`).
mod zone_name {
    pub fn serialize<S: serde::Serializer>(zone: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl IndexEntry {
    pub fn of(d: &PublishedDigest) -> IndexEntry {
        let titles: BTreeSet<&str> = d
            .lessons
            .iter()
            .map(|p| p.lesson.text_for(d.digest.lang).title.as_str())
            .collect();
        IndexEntry {
            id: d.digest.id,
            title: d.digest.title.clone(),
            lang: d.digest.lang,
            channel: d.digest.channel,
            published: d.digest.published_at.unwrap_or(d.digest.composed_at),
            zone: d.zone,
            count: d.lessons.len(),
            summary: summary(titles),
        }
    }

    /// The order of the index and the feed: newest first, by publication and then id.
    fn newest_first(&self) -> impl Ord {
        std::cmp::Reverse((self.published, self.id))
    }
}

/// Where a lesson appeared: a digest's id and title, as its page links to it.
#[derive(Clone, Debug)]
pub struct Appearance {
    pub digest: DigestId,
    pub title: String,
}

/// A digest's two files in the site: `digests/D1.html` and `digests/D1.md`.
pub fn digest_files(
    catalog: &Catalog,
    templates: &Templates,
    d: &PublishedDigest,
) -> Result<SiteFiles> {
    let id = d.digest.id;
    let (html, markdown) = digest_page(catalog, templates, d)?;
    Ok(SiteFiles::from([
        (format!("digests/{id}.html"), html.into_bytes()),
        (format!("digests/{id}.md"), markdown.into_bytes()),
    ]))
}

/// The name of a lesson's page in the site.
pub fn lesson_file_name(id: LessonId) -> String {
    format!("lessons/{id}.html")
}

/// A lesson's page: in `lang`, the language of the first digest it appeared in, as `shown` (the
/// newest digest that published it) shows it, with every digest it appeared in, oldest first.
pub fn lesson_page(
    catalog: &Catalog,
    templates: &Templates,
    lang: Lang,
    shown: &PublishedLesson,
    appeared: &[Appearance],
) -> Result<Vec<u8>> {
    let data = LessonData {
        frame: Frame::new(catalog, lang, "../"),
        lesson: lesson_view(catalog, lang, shown, "../"),
        digests: appeared
            .iter()
            .map(|a| AppearanceView {
                id: a.digest.to_string(),
                title: a.title.clone(),
                href: format!("../digests/{}.html", a.digest),
            })
            .collect(),
    };
    Ok(templates.render("lesson.html", &data)?.into_bytes())
}

/// The index and the Atom feed, listing `entries` newest first, in `lang`.
pub fn index_files(
    catalog: &Catalog,
    templates: &Templates,
    lang: Lang,
    entries: &[&IndexEntry],
) -> Result<SiteFiles> {
    let data = index_data(catalog, lang, entries);
    Ok(SiteFiles::from([
        (
            "index.html".to_owned(),
            templates.render("index.html", &data)?.into_bytes(),
        ),
        (
            "feed.atom".to_owned(),
            templates.render("feed.atom", &data)?.into_bytes(),
        ),
        (
            "style.css".to_owned(),
            templates.style().as_bytes().to_vec(),
        ),
    ]))
}

/// The files of [`index_files`] put into `pages` as they are rendered, with the same bytes:
/// the index of a digest of the whole library lists every lesson's title, so neither page
/// (nor the one it replaces) is held whole.
pub fn put_index_files(
    pages: &mut super::Pages<'_>,
    catalog: &Catalog,
    templates: &Templates,
    lang: Lang,
    entries: &[&IndexEntry],
) -> Result<()> {
    let data = index_data(catalog, lang, entries);
    for name in ["index.html", "feed.atom"] {
        pages.put_with(name, |out| templates.render_to(name, &data, out))?;
    }
    pages.put("style.css", templates.style().as_bytes())
}

/// What the index and the feed show of `entries`, newest first.
fn index_data<'c>(catalog: &'c Catalog, lang: Lang, entries: &[&IndexEntry]) -> IndexData<'c> {
    let mut newest_first: Vec<&IndexEntry> = entries.to_vec();
    newest_first.sort_by_key(|e| e.newest_first());
    let list: Vec<IndexLine> = newest_first
        .iter()
        .map(|e| IndexLine {
            id: e.id.to_string(),
            title: e.title.clone(),
            lang: e.lang.key(),
            date: crate::time::date(lang, e.zone, e.published),
            updated: feed_time(e.published),
            count: e.count,
            html: format!("digests/{}.html", e.id),
            md: format!("digests/{}.md", e.id),
            summary: e.summary.clone(),
        })
        .collect();
    let updated = list
        .first()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |d| d.updated.clone());
    IndexData {
        frame: Frame::new(catalog, lang, ""),
        digests: list,
        updated,
    }
}

/// Every file of the site: per digest an HTML page and Markdown, a page per lesson, the index
/// (newest digest first), the Atom feed and the style sheet. `lang` is the language of the
/// index and the feed; each digest and its lessons are in the digest's own language.
pub fn build(
    catalog: &Catalog,
    templates: &Templates,
    lang: Lang,
    digests: &[PublishedDigest],
) -> Result<SiteFiles> {
    let mut files = SiteFiles::new();
    let mut oldest_first: Vec<&PublishedDigest> = digests.iter().collect();
    oldest_first.sort_by_key(|d| {
        (
            d.digest.published_at.unwrap_or(d.digest.composed_at),
            d.digest.id,
        )
    });
    // Each lesson's page: in the language of the first digest it appeared in, as the newest
    // digest that published it shows it.
    let mut lesson_pages: BTreeMap<LessonId, (Lang, &PublishedLesson, Vec<Appearance>)> =
        BTreeMap::new();
    for d in &oldest_first {
        files.extend(digest_files(catalog, templates, d)?);
        for p in &d.lessons {
            let entry = lesson_pages
                .entry(p.lesson.id)
                .or_insert_with(|| (d.digest.lang, p, Vec::new()));
            entry.1 = p;
            entry.2.push(Appearance {
                digest: d.digest.id,
                title: d.digest.title.clone(),
            });
        }
    }
    for (id, (lesson_lang, p, appeared)) in &lesson_pages {
        files.insert(
            lesson_file_name(*id),
            lesson_page(catalog, templates, *lesson_lang, p, appeared)?,
        );
    }
    let entries: Vec<IndexEntry> = digests.iter().map(IndexEntry::of).collect();
    files.extend(index_files(
        catalog,
        templates,
        lang,
        &entries.iter().collect::<Vec<_>>(),
    )?);
    Ok(files)
}

/// How many lessons of a digest are read and rendered at a time when its page is written in
/// parts.
pub const LESSONS_AT_A_TIME: usize = 256;

/// A published digest as its pages are written in parts ([`write_digest_page`]): its record
/// and, per learning order and first step, the ids of the lessons it shows, in its order.
/// What the page's head, the figures and the index need of the lessons is counted as they are
/// added, so none is kept: one digest may list the whole library.
#[derive(Clone, Debug)]
pub struct DigestOutline {
    pub digest: Digest,
    /// The time zone of its collaboration.
    pub zone: chrono_tz::Tz,
    /// By (position in [`Order::ALL`], position in [`Step::ALL`] or after it for none).
    groups: BTreeMap<(usize, usize), Vec<LessonId>>,
    perspectives: [u32; 4],
    /// The first titles in sorted order, without repeats: one more than the index shows.
    titles: BTreeSet<String>,
    count: usize,
}

impl DigestOutline {
    pub fn new(digest: Digest, zone: chrono_tz::Tz) -> DigestOutline {
        DigestOutline {
            digest,
            zone,
            groups: BTreeMap::new(),
            perspectives: [0; 4],
            titles: BTreeSet::new(),
            count: 0,
        }
    }

    /// A lesson the digest shows, as it shows it, in the digest's order.
    pub fn add(&mut self, lesson: &Lesson) {
        let order = Order::ALL
            .iter()
            .position(|o| *o == lesson.order)
            .unwrap_or(Order::ALL.len());
        // Listed under its first step, as [`groups`] does.
        let step = lesson
            .steps
            .iter()
            .min()
            .and_then(|s| Step::ALL.iter().position(|x| x == s))
            .unwrap_or(Step::ALL.len());
        self.groups
            .entry((order, step))
            .or_default()
            .push(lesson.id);
        if let Some(x) = lesson.perspective {
            self.perspectives[usize::from(x.byte())] += 1;
        }
        // Only the first titles are shown, and one more tells there are more.
        let title = &lesson.text_for(self.digest.lang).title;
        if self.titles.len() <= SUMMARY_TITLES
            || self.titles.last().is_some_and(|last| title < last)
        {
            self.titles.insert(title.clone());
            if self.titles.len() > SUMMARY_TITLES + 1 {
                self.titles.pop_last();
            }
        }
        self.count += 1;
    }

    /// Every lesson it shows, by order and step.
    pub fn lessons(&self) -> impl Iterator<Item = LessonId> + '_ {
        self.groups.values().flatten().copied()
    }

    /// What the index and the feed show of it, as [`IndexEntry::of`] gives it.
    pub fn index_entry(&self) -> IndexEntry {
        let d = &self.digest;
        IndexEntry {
            id: d.id,
            title: d.title.clone(),
            lang: d.lang,
            channel: d.channel,
            published: d.published_at.unwrap_or(d.composed_at),
            zone: self.zone,
            count: self.count,
            summary: summary(self.titles.iter().map(String::as_str)),
        }
    }

    /// The groups as the templates see them, without their lessons.
    fn orders(&self, catalog: &Catalog) -> Vec<OrderGroup> {
        let lang = self.digest.lang;
        let a = catalog.academy(lang);
        let mut out = Vec::new();
        for (o, order) in Order::ALL.iter().enumerate() {
            let steps: Vec<StepGroup> = self
                .groups
                .range((o, 0)..=(o, usize::MAX))
                .map(|(&(_, s), ids)| StepGroup {
                    label: match Step::ALL.get(s) {
                        Some(step) => catalog.step_label(lang, *step),
                        None => catalog.plain(lang, keys::SITE_NO_STEP),
                    },
                    count: ids.len(),
                    lessons: Vec::new(),
                })
                .collect();
            if steps.is_empty() {
                continue;
            }
            let o = a.order(*order);
            out.push(OrderGroup {
                name: o.name.clone(),
                short: o.short.clone(),
                count: steps.iter().map(|s| s.count).sum(),
                steps,
            });
        }
        out
    }
}

/// The data of a digest template's lesson loop alone: the page's data (for `@root`) and the
/// lessons of one piece of one step.
#[derive(Serialize)]
struct LessonsData<'a, 'b> {
    #[serde(flatten)]
    page: &'b DigestData<'a>,
    lessons: Vec<LessonView>,
}

/// Writes a digest's own page (`digest.html`, or `digest.md` when `markdown`) to `out`, the
/// same bytes as [`digest_page`], in parts: the page without its lessons, then per step its
/// lessons [`LESSONS_AT_A_TIME`] at a time, read through `read` (which leaves out a lesson no
/// longer shown) as they are written. So neither the digest's lessons nor its page are held
/// whole, whatever its size. A template that cannot be cut ([`Templates::parts`]) is rendered
/// whole, from every lesson read at once.
pub fn write_digest_page(
    catalog: &Catalog,
    templates: &Templates,
    outline: &DigestOutline,
    markdown: bool,
    out: &mut dyn std::io::Write,
    read: &mut dyn FnMut(&[LessonId]) -> Result<Vec<PublishedLesson>>,
) -> Result<()> {
    let name = if markdown { "digest.md" } else { "digest.html" };
    let (lang, root) = (outline.digest.lang, "../");
    if let Some(parts) = templates.parts(name, || parts_agree(catalog, templates, name)) {
        let page = page_data(
            catalog,
            &outline.digest,
            outline.zone,
            outline.count,
            outline.orders(catalog),
            figures_of(catalog, lang, outline.perspectives),
            root,
        );
        let text = templates.render(&parts.outline, &page)?;
        let pieces: Vec<&str> = text.split(super::templates::LESSONS_MARK).collect();
        // One place per step, else something in the head held the mark: rendered whole below.
        if pieces.len() == outline.groups.len() + 1 {
            out.write_all(pieces[0].as_bytes())?;
            for (ids, piece) in outline.groups.values().zip(&pieces[1..]) {
                for chunk in ids.chunks(LESSONS_AT_A_TIME) {
                    let lessons = read(chunk)?
                        .iter()
                        .map(|p| lesson_view(catalog, lang, p, root))
                        .collect();
                    let data = LessonsData {
                        page: &page,
                        lessons,
                    };
                    let lessons = templates.render(&parts.lessons, &data)?;
                    out.write_all(&lessons.as_bytes()[parts.skip..])?;
                }
                out.write_all(piece.as_bytes())?;
            }
            return Ok(());
        }
    }
    let mut lessons = Vec::with_capacity(outline.count);
    for ids in outline.groups.values() {
        lessons.extend(read(ids)?);
    }
    let d = PublishedDigest {
        digest: outline.digest.clone(),
        lessons,
        zone: outline.zone,
    };
    out.write_all(
        templates
            .render(name, &digest_data(catalog, &d, root))?
            .as_bytes(),
    )?;
    Ok(())
}

/// Whether the two parts of the digest template `name` render a sample digest (two orders,
/// several steps, lessons with and without each optional part, rendered one and two at a
/// time) as the whole template does. Checked once per template before its parts are used,
/// so a template given in the configured folder that the cut would change is rendered whole.
fn parts_agree(catalog: &Catalog, templates: &Templates, name: &str) -> bool {
    let Some(cut) = templates.cut(name) else {
        return false;
    };
    let lesson = |n: usize| LessonView {
        id: format!("L{n}"),
        href: format!("../lessons/L{n}.html"),
        title: format!("Les {n} <&> *"),
        happened: format!("Gebeurd {n}\nregel"),
        lesson: format!("Les {n}"),
        by: n.is_multiple_of(2).then(|| format!("Lid {n}")),
        order: "Orde".to_owned(),
        steps: (!n.is_multiple_of(3)).then(|| "1, 3".to_owned()),
        steps_many: n % 3 == 1,
        perspective: (n % 2 == 1).then(|| "Perspectief".to_owned()),
        tags: (0..n % 3).map(|t| format!("tag{t}")).collect(),
        featured: n.is_multiple_of(4),
        source: n.is_multiple_of(2).then(|| "bron".to_owned()),
        applied: n % 3,
        notes: (0..n % 2)
            .map(|_| NoteView {
                date: "1 januari".to_owned(),
                note: "Toegepast".to_owned(),
            })
            .collect(),
        edited_since: n.is_multiple_of(5),
    };
    let step = |label: &str, from: usize, count: usize| StepGroup {
        label: label.to_owned(),
        count,
        lessons: (from..from + count).map(lesson).collect(),
    };
    let orders = vec![
        OrderGroup {
            name: "Eerste".to_owned(),
            short: "een".to_owned(),
            count: 4,
            steps: vec![step("Stap 1", 1, 3), step("Stap 2", 4, 1)],
        },
        OrderGroup {
            name: "Derde".to_owned(),
            short: "drie".to_owned(),
            count: 2,
            steps: vec![step("Geen stap", 5, 2)],
        },
    ];
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let digest = Digest {
        id: DigestId(1),
        title: "Proef".to_owned(),
        lang: Lang::Nl,
        channel: None,
        filter: crate::domain::DigestFilter::default(),
        lessons: Vec::new(),
        status: crate::domain::DigestStatus::Published,
        composed_by: None,
        composed_at: at,
        published_at: Some(at),
        as_published: Vec::new(),
    };
    let whole = page_data(
        catalog,
        &digest,
        chrono_tz::UTC,
        6,
        orders,
        figures_of(catalog, digest.lang, [1, 0, 2, 0]),
        "../",
    );
    let mut page = whole.clone();
    let mut shown = Vec::new();
    for o in &mut page.orders {
        for s in &mut o.steps {
            shown.push(std::mem::take(&mut s.lessons));
        }
    }
    let parts = || -> Result<String> {
        let text = templates.render(&cut.outline, &page)?;
        let mut pieces = text.split(super::templates::LESSONS_MARK);
        let mut out = pieces.next().unwrap_or_default().to_owned();
        for (lessons, piece) in shown.iter().zip(pieces) {
            for chunk in lessons.chunks(2) {
                let data = LessonsData {
                    page: &page,
                    lessons: chunk.to_vec(),
                };
                let lessons = templates.render(&cut.lessons, &data)?;
                out.push_str(lessons.get(cut.skip..).unwrap_or_default());
            }
            out.push_str(piece);
        }
        Ok(out)
    };
    match (templates.render(name, &whole), parts()) {
        // Every sample step has lessons: a head that lost a step's place renders fewer.
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_built_in_digest_pages_are_written_in_parts() {
        let catalog = Catalog::embedded().expect("catalog");
        let templates = Templates::embedded().expect("templates");
        for name in ["digest.html", "digest.md"] {
            // As a page asks for them: the check runs inside the first request.
            assert!(
                templates
                    .parts(name, || parts_agree(&catalog, &templates, name))
                    .is_some(),
                "{name} is cut, and its parts render what it renders"
            );
        }
    }

    #[test]
    fn a_digest_template_its_parts_would_change_is_rendered_whole() {
        use crate::disk::Disk;
        let catalog = Catalog::embedded().expect("catalog");
        let disk = crate::disk::MemoryDisk::default();
        let dir = std::path::Path::new("/templates");
        let built_in = include_str!("../../../../prompts/templates/digest.md.hbs");
        // The lesson's place in its step: only the whole loop knows it.
        let counted = built_in.replace("#### {{title}}", "#### {{@index}}. {{title}}");
        disk.write_private(&dir.join("digest.md.hbs"), counted.as_bytes())
            .expect("write");
        let templates = Templates::load(Some(dir), &disk).expect("templates");
        assert!(templates.cut("digest.md").is_none());
        assert!(!parts_agree(&catalog, &templates, "digest.md"));
    }

    #[test]
    fn a_period_open_at_one_end_says_so_in_the_digests_language() {
        let catalog = Catalog::embedded().expect("catalog");
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 3, d);
        let period = |lang: Lang, from, to| {
            let digest = Digest {
                id: DigestId(1),
                title: "Proef".to_owned(),
                lang,
                channel: None,
                filter: crate::domain::DigestFilter {
                    from,
                    to,
                    ..Default::default()
                },
                lessons: Vec::new(),
                status: crate::domain::DigestStatus::Published,
                composed_by: None,
                composed_at: DateTime::<Utc>::UNIX_EPOCH,
                published_at: None,
                as_published: Vec::new(),
            };
            let figures = figures_of(&catalog, lang, [0; 4]);
            page_data(
                &catalog,
                &digest,
                chrono_tz::UTC,
                0,
                Vec::new(),
                figures,
                "",
            )
            .digest
            .period
        };
        assert_eq!(period(Lang::Nl, None, None), None);
        assert_eq!(
            period(Lang::Nl, day(1), day(31)).as_deref(),
            Some("01-03-2026 – 31-03-2026")
        );
        assert_eq!(
            period(Lang::Nl, day(1), None).as_deref(),
            Some("vanaf 01-03-2026")
        );
        assert_eq!(
            period(Lang::Nl, None, day(31)).as_deref(),
            Some("tot en met 31-03-2026")
        );
        assert_eq!(
            period(Lang::En, day(1), None).as_deref(),
            Some("from 1 Mar 2026")
        );
        assert_eq!(
            period(Lang::En, None, day(31)).as_deref(),
            Some("up to and including 31 Mar 2026")
        );
    }

    /// An empty Dutch digest view for template tests, with `title` as the digest's title.
    pub(crate) fn sample_view<'a>(catalog: &'a Catalog, title: &str) -> impl Serialize + 'a {
        DigestData {
            frame: Frame::new(catalog, Lang::Nl, ""),
            digest: DigestHead {
                id: "D1".to_owned(),
                title: title.to_owned(),
                date: "2026-01-01".to_owned(),
                updated: "2026-01-01T00:00:00Z".to_owned(),
                count: 0,
                period: None,
                html: "D1.html".to_owned(),
                md: "D1.md".to_owned(),
            },
            orders: Vec::new(),
            figures: Figures {
                quadrant_svg: String::new(),
                quadrant_alt: String::new(),
                doing_learning_svg: String::new(),
                doing_learning_alt: String::new(),
            },
        }
    }
}
