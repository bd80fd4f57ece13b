//! Published digests as files: every template's output for a fixed set of lessons, hostile ones
//! included, kept as snapshots; the Atom feed read by an XML parser; the site rebuilt twice to
//! the same bytes; a deleted lesson gone from the site; the site kept page by page as changes
//! come, byte for byte the site written whole.

use crate::support::academy::{self as support, monday, TestClock};
use crate::support::text::contains;
use academie::domain::*;
use academie::engine::{Clock, Ctx, Engine, LessonDraft, Request, Settings};
use academie::store::SledStore;
use academie::text::Catalog;
use chrono::DateTime;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

const CHANNEL: ChannelId = ChannelId(42);

fn person(id: u64, name: &str, role: Role) -> Ctx {
    Ctx {
        actor: Actor {
            id: UserId(id),
            name: name.into(),
            lang: Lang::Nl,
            role,
        },
        channel: Some(CHANNEL),
        server: None,
    }
}

const SCRIPT_TITLE: &str = "<script>alert(\"x\")</script> & {{digest.title}}";
const BREAKERS: &str = "# Kop\n* lijst\n| a | b |\n> citaat\n1. een\n---";
const PINGS: &str =
    "Gebruik **vet**, [link](http://example.org), `code`, ~~weg~~ en @everyone <@&123>.";
const RTL: &str = "מה הבעיה לדעתנו? النص العربي هنا.";

/// An academy with four approved lessons of every kind and one published digest.
fn academy(dir: &Path, site: Option<&Path>) -> Engine {
    let store = Arc::new(SledStore::open(&dir.join("db"), None).expect("store"));
    let engine = support::engine(
        store,
        TestClock::at(monday()),
        Settings {
            site_dir: site.map(Path::to_owned),
            ..Settings::default()
        },
    );
    let admin = person(1, "Mira Moderator", Role::Admin);
    let ok = |ctx: &Ctx, req: Request| {
        engine
            .handle(ctx, req.clone())
            .unwrap_or_else(|f| panic!("{req:?}: {f}"))
    };
    ok(
        &admin,
        Request::Setup {
            task: "Klimaatadaptatie".into(),
            region: "Delta".into(),
            layers: vec![Layer::Municipality, Layer::Province],
            lang: None,
            zone: None,
        },
    );
    let anna = person(2, "Anna Aalbers", Role::Member);
    let bram = person(3, "Bram Bakker", Role::Member);
    let carla = person(4, "Carla Claes", Role::Member);
    ok(
        &anna,
        Request::SetLayer {
            layer: Layer::Municipality,
        },
    );
    ok(
        &carla,
        Request::SetLayer {
            layer: Layer::Province,
        },
    );
    let share = |ctx: &Ctx, title: &str, happened: &str, lesson: &str, order, steps, p, a| {
        ok(
            ctx,
            Request::LessonShare(LessonDraft {
                title: title.into(),
                happened: happened.into(),
                lesson: lesson.into(),
                order,
                steps,
                perspective: p,
                tags: vec!["html".into(), "markdown".into()],
                attribution: a,
            }),
        )
    };
    share(
        &anna,
        SCRIPT_TITLE,
        BREAKERS,
        PINGS,
        Order::Second,
        vec![Step::Issue, Step::Kind],
        Some(Perspective::Networking),
        Attribution::Named,
    );
    share(
        &bram,
        RTL,
        "Anoniem gedeeld.",
        "Niemand mag zien wie dit schreef.",
        Order::First,
        vec![],
        None,
        Attribution::Anonymous,
    );
    share(
        &carla,
        "Een les van de provincie",
        "Wat er gebeurde.",
        "Wat we leerden.",
        Order::Third,
        vec![Step::Others],
        Some(Perspective::Lawful),
        Attribution::Layer,
    );
    // A 4,000-character lesson arrives through the library, which has no length limit.
    let long = "Lang verhaal met veel woorden. ".repeat(133);
    let file = format!(
        "+++\nkey = \"lang\"\norder = \"first\"\nsteps = [4]\ntags = [\"lang\"]\nsource = \"Test\"\n+++\n\n# Een heel lange les\n\n## Wat er gebeurde\n\n{long}\n\n## De les\n\n{long}\n\n# A very long lesson\n\n## What happened\n\n{long}\n\n## The lesson\n\n{long}\n"
    );
    engine
        .import_library(&[("lang.md".into(), file)])
        .expect("import");
    for id in 1..=3 {
        ok(&admin, Request::ReviewApprove { id: LessonId(id) });
    }
    ok(
        &admin,
        Request::DigestCompose {
            title: Some("Digest <b>maart</b> {{x}} *ster*".into()),
            // The long lesson comes from the library, which a digest takes in only when asked.
            filter: DigestFilter {
                library: true,
                ..DigestFilter::default()
            },
        },
    );
    ok(&admin, Request::DigestPublish { id: DigestId(1) });
    engine
}

fn read_all(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for sub in ["", "digests", "lessons"] {
        for entry in std::fs::read_dir(dir.join(sub)).expect("dir").flatten() {
            let path = entry.path();
            if path.is_file() {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(name, std::fs::read_to_string(&path).expect("text"));
            }
        }
    }
    out
}

#[test]
fn every_template_renders_hostile_lessons_safely() {
    let dir = tempfile::tempdir().expect("dir");
    let site = dir.path().join("site");
    let engine = academy(dir.path(), Some(&site));
    let files = read_all(&site);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "digests/D1.html",
            "digests/D1.md",
            "feed.atom",
            "index.html",
            "lessons/L1.html",
            "lessons/L2.html",
            "lessons/L3.html",
            "lessons/L4.html",
            "style.css",
        ]
    );
    let html = &files["digests/D1.html"];
    assert!(!html.contains("<script"), "user text became markup");
    assert!(!html.contains("<b>maart"), "a title became markup");
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; {{digest.title}}")
    );
    assert!(html.contains(RTL), "right-to-left text kept");
    let md = &files["digests/D1.md"];
    contains(md, "\\<script\\>");
    assert!(md.contains("\n\\# Kop\n\\* lijst\n\\| a \\| b \\|\n\\> citaat\n1\\. een\n\\---"));
    assert!(!md.contains("\n# Kop"));
    for (name, text) in &files {
        assert!(!text.contains("Bram"), "{name} names the anonymous author");
        assert!(
            !text.contains("Carla"),
            "{name} names a layer-attributed author"
        );
    }
    assert!(html.contains("Anna Aalbers (Gemeente)"));
    assert!(html.contains("iemand van een provincie"));
    assert!(html.contains(
        &"Lang verhaal met veel woorden. "
            .repeat(133)
            .trim_end()
            .to_owned()
    ));

    let chat = academie::site::chat(
        engine.catalog(),
        &academie::site::Templates::embedded().expect("templates"),
        &engine.published_digests().expect("digests")[0],
    )
    .expect("chat");
    assert!(chat.contains("\\<script\\>"));

    insta::assert_snapshot!("digest.html", html);
    insta::assert_snapshot!("digest.md", md);
    insta::assert_snapshot!("digest.chat", chat);
    insta::assert_snapshot!("index.html", &files["index.html"]);
    insta::assert_snapshot!("lesson.html", &files["lessons/L1.html"]);
    insta::assert_snapshot!("feed.atom", &files["feed.atom"]);
}

#[test]
fn the_feed_is_well_formed_atom() {
    let dir = tempfile::tempdir().expect("dir");
    let site = dir.path().join("site");
    academy(dir.path(), Some(&site));
    let text = std::fs::read_to_string(site.join("feed.atom")).expect("feed");
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let feed = doc.root_element();
    let atom = "http://www.w3.org/2005/Atom";
    assert_eq!(feed.tag_name().name(), "feed");
    assert_eq!(feed.tag_name().namespace(), Some(atom));
    fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
        node.children().find(|c| {
            c.tag_name().name() == name
                && c.tag_name().namespace() == Some("http://www.w3.org/2005/Atom")
        })
    }
    for required in ["id", "title", "updated", "author"] {
        assert!(child(feed, required).is_some(), "feed has no {required}");
    }
    let updated = child(feed, "updated").and_then(|n| n.text()).unwrap_or("");
    DateTime::parse_from_rfc3339(updated).expect("updated is RFC 3339");
    let entries: Vec<_> = feed
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 1);
    for e in entries {
        for required in ["id", "title", "updated", "link"] {
            assert!(child(e, required).is_some(), "entry has no {required}");
        }
        let title = child(e, "title").and_then(|n| n.text()).unwrap_or("");
        assert_eq!(
            title, "Digest <b>maart</b> {{x}} *ster*",
            "the title is text"
        );
        let href = child(e, "link")
            .and_then(|n| n.attribute("href"))
            .unwrap_or("");
        assert!(site.join(href).is_file(), "{href} exists");
    }
}

#[test]
fn export_twice_gives_identical_files_and_deleted_lessons_leave_the_site() {
    let dir = tempfile::tempdir().expect("dir");
    let engine = academy(dir.path(), None);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    engine.export_site(&a).expect("first");
    let again = engine.export_site(&a).expect("again");
    assert_eq!(again.written, 0, "nothing changed, nothing written");
    engine.export_site(&b).expect("second folder");
    assert_eq!(read_all(&a), read_all(&b));

    // Anna deletes her data: her lesson's page goes, and her name with it.
    let anna = person(2, "Anna Aalbers", Role::Member);
    engine
        .handle(&anna, Request::MyDataDelete { confirm: true })
        .expect("deleted");
    let report = engine.export_site(&a).expect("after delete");
    assert_eq!(report.removed, 1);
    let files = read_all(&a);
    assert!(!files.contains_key("lessons/L1.html"));
    assert!(files.values().all(|t| !t.contains("Anna")));
}

/// Headless Chromium, or `None` when the developer chose to skip browser tests.
fn chromium() -> Option<std::path::PathBuf> {
    if std::env::var("ACADEMIE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("ACADEMIE_SKIP_BROWSER=1: the browser test is skipped");
        return None;
    }
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        });
    Some(found.unwrap_or_else(|| {
        panic!(
            "this test needs headless Chromium: install Debian's `chromium` (./test does), \
             or set ACADEMIE_SKIP_BROWSER=1 to skip it knowingly"
        )
    }))
}

/// Runs Chromium headless on a file; returns (stdout, stderr).
fn browse(browser: &Path, profile: &Path, args: &[String], page: &Path) -> (String, String) {
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages Chromium logged (`…:CONSOLE(1)] "…"` or `…:CONSOLE:1] "…"`).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// Every `href="…"` and `src="…"` in a serialized DOM.
fn links(dom: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = dom;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    out
}

#[test]
fn the_site_reads_well_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let site = dir.path().join("site");
    academy(dir.path(), Some(&site));
    let profile = dir.path().join("profile");

    // The console check can fail: a page that logs an error is caught.
    let canary = dir.path().join("canary.html");
    std::fs::write(
        &canary,
        "<html><body><script>console.error('canary')</script></body></html>",
    )
    .expect("canary");
    let (_, stderr) = browse(&browser, &profile, &["--dump-dom".into()], &canary);
    assert!(
        console_lines(&stderr).iter().any(|l| l.contains("canary")),
        "console messages are not being captured: {stderr}"
    );

    let mut pages: Vec<std::path::PathBuf> =
        vec![site.join("index.html"), site.join("digests/D1.html")];
    for entry in std::fs::read_dir(site.join("lessons"))
        .expect("lessons")
        .flatten()
    {
        pages.push(entry.path());
    }
    for page in &pages {
        let (dom, stderr) = browse(&browser, &profile, &["--dump-dom".into()], page);
        assert!(
            dom.contains("</html>"),
            "{} rendered: {stderr}",
            page.display()
        );
        assert!(
            console_lines(&stderr).is_empty(),
            "{} logged to the console: {:?}",
            page.display(),
            console_lines(&stderr)
        );
        assert!(
            !dom.contains("<script"),
            "{}: a script element",
            page.display()
        );
        assert!(
            !dom.contains("<b>maart"),
            "{}: user text became markup",
            page.display()
        );
        for link in links(&dom) {
            if link.contains("://") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("folder").join(file)
            };
            assert!(target.is_file(), "{}: broken link {link}", page.display());
            if !fragment.is_empty() {
                let target_text = std::fs::read_to_string(&target).expect("target");
                assert!(
                    target_text.contains(&format!("id=\"{fragment}\"")),
                    "{}: no #{fragment} in {}",
                    page.display(),
                    target.display()
                );
            }
        }
    }
    let (index, _) = browse(
        &browser,
        &profile,
        &["--dump-dom".into()],
        &site.join("index.html"),
    );
    assert!(
        index.contains("Digest &lt;b&gt;maart&lt;/b&gt; {{x}} *ster*"),
        "the index lists the digest by its title, as text"
    );
    assert!(index.contains("digests/D1.html"));

    // A phone-sized screenshot of the digest, kept for people to look at.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("site-digest-phone.png");
    let _ = std::fs::remove_file(&shot);
    browse(
        &browser,
        &profile,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=414,2000".into(),
            "--hide-scrollbars".into(),
        ],
        &site.join("digests/D1.html"),
    );
    let png = std::fs::read(&shot).expect("a screenshot was written");
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!(pixmap.width(), 414);
    let distinct: BTreeSet<[u8; 4]> = pixmap
        .pixels()
        .iter()
        .map(|p| [p.red(), p.green(), p.blue(), p.alpha()])
        .collect();
    assert!(distinct.len() > 20, "the screenshot is not blank");
    eprintln!("screenshot: {}", shot.display());
}

/// Every file under `dir`, by its name relative to it, as bytes.
fn every_file(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(name, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// The site as the academy kept it, file for file and byte for byte the site written whole from
/// the same database into a fresh folder.
fn assert_same_as_whole(engine: &Engine, site: &Path, whole: &Path, when: &str) {
    engine.export_site(whole).expect("whole site");
    let kept = every_file(site);
    let built = every_file(whole);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&kept), names(&built), "{when}: the same files");
    for (name, bytes) in &built {
        assert!(
            &kept[name] == bytes,
            "{when}: {name} differs from the whole site:\n{}\n---\n{}",
            String::from_utf8_lossy(&kept[name]),
            String::from_utf8_lossy(bytes)
        );
    }
    // The whole site is written a page at a time; every page built at once in memory from
    // all digests is the same (meetings' pages are not part of that build).
    let at_once = academie::site::build(
        &Catalog::embedded().expect("catalog"),
        &academie::site::Templates::embedded().expect("templates"),
        Settings::default().default_lang,
        &engine.published_digests().expect("digests"),
    )
    .expect("built at once");
    let pages: BTreeSet<String> = names(&built)
        .into_iter()
        .filter(|n| !n.starts_with("meetings/"))
        .collect();
    assert_eq!(pages, names(&at_once), "{when}: the pages built at once");
    for (name, bytes) in &at_once {
        assert!(
            &built[name] == bytes,
            "{when}: {name} differs built at once"
        );
    }
}

#[test]
fn the_site_kept_page_by_page_is_byte_for_byte_the_site_written_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let site = dir.path().join("site");
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("store"));
    // Moved on a day before each digest, so each has its own moment.
    let clock = TestClock::at(monday());
    let engine = support::engine(
        store,
        clock.clone(),
        Settings {
            site_dir: Some(site.clone()),
            // As the binary runs: a deletion replies before its upkeep.
            erasures_dir: Some(dir.path().join("db.erasing")),
            ..Settings::default()
        },
    );
    let mut step = 0;
    let mut same = |when: &str| {
        step += 1;
        assert_same_as_whole(
            &engine,
            &site,
            &dir.path().join(format!("whole{step}")),
            when,
        );
    };
    let ok = |ctx: &Ctx, req: Request| {
        clock.set(clock.now() + chrono::Duration::days(1));
        engine
            .handle(ctx, req.clone())
            .unwrap_or_else(|f| panic!("{req:?}: {f}"))
    };
    let admin = person(1, "Mira Moderator", Role::Admin);
    let anna = person(2, "Anna Aalbers", Role::Member);
    let bram = person(3, "Bram Bakker", Role::Member);
    let carla = person(4, "Carla Claes", Role::Member);
    // A second collaboration, in English and another time zone.
    let elsewhere = |mut ctx: Ctx| {
        ctx.channel = Some(ChannelId(43));
        ctx
    };
    ok(&admin, support::delta_request());
    ok(
        &elsewhere(admin.clone()),
        Request::Setup {
            task: "Water".into(),
            region: "Coast".into(),
            layers: vec![Layer::Province],
            lang: Some(Lang::En),
            zone: Some(chrono_tz::America::New_York),
        },
    );
    let share = |ctx: &Ctx, title: &str, attribution| {
        ok(
            ctx,
            Request::LessonShare(LessonDraft {
                title: title.into(),
                happened: format!("Wat er gebeurde bij {title}."),
                lesson: format!("Wat we leerden van {title}."),
                order: Order::Second,
                steps: vec![Step::Issue],
                perspective: Some(Perspective::Networking),
                tags: vec!["site".into()],
                attribution,
            }),
        );
    };
    let approve = |ids: std::ops::RangeInclusive<u64>| {
        for id in ids {
            ok(&admin, Request::ReviewApprove { id: LessonId(id) });
        }
    };
    let publish = |ctx: &Ctx, title: &str, library: bool| {
        let draft = ok(
            ctx,
            Request::DigestCompose {
                title: Some(title.into()),
                filter: DigestFilter {
                    library,
                    ..DigestFilter::default()
                },
            },
        );
        let Some(academie::reply::Action::PublishDigest(id)) =
            draft.choices.last().map(|c| c.action.clone())
        else {
            panic!("no draft: {draft:?}")
        };
        ok(ctx, Request::DigestPublish { id });
        id
    };

    // A library lesson in both languages, which both collaborations will publish.
    engine
        .import_library(&[(
            "samen.md".into(),
            "+++\nkey = \"samen\"\norder = \"first\"\nsteps = [1]\n+++\n\n# Samen beginnen\n\n## Wat er gebeurde\n\nWe begonnen apart.\n\n## De les\n\nBegin samen.\n\n# Starting together\n\n## What happened\n\nWe started apart.\n\n## The lesson\n\nStart together.\n".into(),
        )])
        .expect("import");
    share(&anna, "Mandaat vooraf", Attribution::Named); // L2
    share(&anna, "Tweede les van Anna", Attribution::Named); // L3
    share(&bram, "Anoniem gedeeld", Attribution::Anonymous); // L4
    approve(2..=4);
    publish(&admin, "Maart", true);
    same("the first publication, written whole");

    // Changes no publication writes yet: an application with a note, an edit of a published
    // lesson (the digest keeps what it published), a new lesson published in a second digest.
    ok(
        &carla,
        Request::LessonApplied {
            id: LessonId(4),
            note: "Gebruikt in ons overleg.".into(),
        },
    );
    ok(
        &bram,
        Request::LessonEdit {
            id: LessonId(4),
            changes: academie::engine::LessonChanges {
                title: Some("Anoniem gedeeld, later herschreven".into()),
                ..Default::default()
            },
            version: None,
        },
    );
    ok(
        &carla,
        Request::SetLayer {
            layer: Layer::Province,
        },
    );
    share(&carla, "Een les van de provincie", Attribution::Layer); // L5
    approve(5..=5);
    publish(&admin, "April", false);
    same("a second publication, page by page");

    // The library lesson again, in an English digest in another zone: its page keeps the
    // language of the first digest and lists both.
    publish(&elsewhere(admin.clone()), "Coast digest", true);
    same("the same lesson in a digest of another collaboration");
    let page =
        String::from_utf8(std::fs::read(site.join("lessons/L1.html")).expect("L1")).expect("text");
    assert!(
        page.contains("Maart") && page.contains("Coast digest"),
        "{page}"
    );

    // Rejected without a change: it leaves the digest and its page leaves the site, at the
    // next round of scheduled work.
    ok(
        &admin,
        Request::ReviewReject {
            id: LessonId(5),
            reason: "Hoort hier niet.".into(),
        },
    );
    engine.run_due().expect("run due");
    same("a rejection, written by the scheduled work");
    assert!(!site.join("lessons/L5.html").exists());

    // Anna deletes her data: her lessons' pages go with the reply; the digests that showed
    // them, which may hold the whole library, follow in the upkeep, as the reply says.
    let names_anna = || {
        every_file(&site)
            .values()
            .any(|b| String::from_utf8_lossy(b).contains("Anna"))
    };
    assert!(
        names_anna(),
        "her name is on the site, so the checks below can fail"
    );
    let reply = ok(&anna, Request::MyDataDelete { confirm: true });
    assert!(
        reply.body.contains(
            "Uit de pagina's van de website die ze nog tonen, uit haar bestanden op schijf"
        ),
        "{}",
        reply.body
    );
    for gone in ["lessons/L2.html", "lessons/L3.html"] {
        assert!(
            !site.join(gone).exists(),
            "{gone} left the site with the reply"
        );
    }
    assert!(
        names_anna(),
        "the digests' pages are the upkeep's, as the reply says: it did not wait for them"
    );
    // The step of the upkeep that tells her: the pages are written before she is told.
    assert_eq!(engine.finish_erasures(), 1, "the deletion is finished");
    same("a member's data deleted, the upkeep done");
    assert!(!names_anna(), "her name left the site");
    let told = engine
        .outbox()
        .waiting()
        .expect("outbox")
        .into_iter()
        .find(|m| m.to == academie::engine::Recipient::User(anna.actor.id))
        .expect("she is told");
    assert!(
        told.reply
            .body
            .starts_with("Je gegevens zijn nu ook gewist uit de website, uit de bestanden"),
        "{}",
        told.reply.body
    );

    // A site that cannot be written: the publication still succeeds, and once the folder is
    // writable again the scheduled work writes the whole site.
    std::fs::rename(site.join("lessons"), dir.path().join("lessons-aside")).expect("aside");
    std::fs::write(site.join("lessons"), b"not a folder").expect("block");
    share(&bram, "Nog een les", Attribution::Named); // L6
    approve(6..=6);
    publish(&admin, "Mei", false);
    std::fs::remove_file(site.join("lessons")).expect("unblock");
    engine.run_due().expect("run due");
    same("repaired after a failed write");
}

/// A digest of more lessons than are rendered at a time, spread over every learning order
/// and several steps: its pages, written a step's lessons at a time as `export site` and a
/// publication write them, are byte for byte the pages rendered whole from all its lessons at
/// once. A difference in how the template's parts join (a lost or doubled line between a
/// step's heading, its lessons or the pieces of them) fails here.
#[test]
fn a_digest_written_in_parts_is_the_digest_rendered_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let site = dir.path().join("site");
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("store"));
    let engine = support::engine(
        store,
        TestClock::at(monday()),
        Settings {
            site_dir: Some(site.clone()),
            ..Settings::default()
        },
    );
    let admin = person(1, "Mira Moderator", Role::Admin);
    engine
        .handle(&admin, support::delta_request())
        .expect("setup");
    let n = 2 * academie::site::LESSONS_AT_A_TIME + 37;
    let orders = ["first", "second", "third"];
    let steps = ["[]", "[1]", "[2, 5]", "[4]"];
    let perspectives = ["lawful", "performing", "networking", "participating"];
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let key = format!("les-{i:04}");
            let text = format!(
                "+++\nkey = \"{key}\"\norder = \"{}\"\nsteps = {}\nperspective = \"{}\"\ntags = [\"deel{}\"]\n+++\n\n# Les {i} <b>&</b> *{i}*\n\n## Wat er gebeurde\n\nRegel een.\nRegel twee van {i}.\n\n## De les\n\nWat we leerden, {i}.\n",
                orders[i % 3],
                steps[(i / 3) % 4],
                perspectives[i % 4],
                i % 5
            );
            (format!("{key}.md"), text)
        })
        .collect();
    engine.import_library(&files).expect("import");
    let draft = engine
        .handle(
            &admin,
            Request::DigestCompose {
                title: Some("Alles".into()),
                filter: DigestFilter {
                    library: true,
                    ..DigestFilter::default()
                },
            },
        )
        .expect("compose");
    let id = draft
        .choices
        .iter()
        .find_map(|c| match c.action {
            academie::reply::Action::PublishDigest(id) => Some(id),
            _ => None,
        })
        .expect("a publish button");
    engine
        .handle(&admin, Request::DigestPublish { id })
        .expect("publish");
    let digests = engine.published_digests().expect("digests");
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].lessons.len(), n, "every lesson in the digest");
    // The page as a publication wrote it, and as `export site` writes it anew, against the
    // page rendered whole.
    let whole = dir.path().join("whole");
    engine.export_site(&whole).expect("export");
    let catalog = Catalog::embedded().expect("catalog");
    let templates = academie::site::Templates::embedded().expect("templates");
    let (html, markdown) =
        academie::site::digest_page(&catalog, &templates, &digests[0]).expect("whole page");
    for folder in [&site, &whole] {
        for (name, expected) in [("html", &html), ("md", &markdown)] {
            let written = std::fs::read_to_string(folder.join(format!("digests/{id}.{name}")))
                .expect("the page");
            assert!(
                &written == expected,
                "digests/{id}.{name} in {} differs from the page rendered whole",
                folder.display()
            );
        }
    }
    assert!(
        markdown.matches("\n#### Les ").count() == n,
        "every lesson on the page"
    );
    assert_same_as_whole(&engine, &site, &dir.path().join("again"), "a large digest");

    // The index and the feed list the first titles, sorted, and say there are more: listed
    // whole, a digest of the library made each of them megabytes large.
    let mut titles: Vec<String> = (0..n)
        .map(|i| format!("Les {i} &lt;b&gt;&amp;&lt;/b&gt; *{i}*"))
        .collect();
    titles.sort_by_key(|t| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    });
    let index = std::fs::read_to_string(site.join("index.html")).expect("index");
    let summary = index
        .split("<p class=\"summary\" dir=\"auto\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("a summary");
    let shown = academie::site::SUMMARY_TITLES;
    assert_eq!(
        summary,
        format!("{} · …", titles[..shown].join(" · ")),
        "the first titles, then an ellipsis"
    );
    let feed = std::fs::read_to_string(site.join("feed.atom")).expect("feed");
    assert!(
        feed.contains(&format!(
            "{n} lessen: {} · …</summary>",
            titles[..shown].join(" · ")
        )),
        "{feed}"
    );
    assert!(
        index.len() < 8_000 && !index.contains(&titles[shown]),
        "the index lists no more: {} bytes",
        index.len()
    );
}
