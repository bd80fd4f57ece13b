//! "Delete my data" replies once the member's records are removed, and leaves the rewrite of
//! the database files to the upkeep: these tests hold the academy to what that reply promises —
//! the reply comes before any rewrite, several deletions share one, the member is told when
//! the files no longer hold them, that message's address goes too, and a stop or a failed
//! rewrite in between loses nothing.

use crate::support::disk::folder_holds;
use academie::domain::*;
use academie::engine::{Clock, Ctx, Engine, Recipient, Request, Settings};
use academie::store::{Batch, Entry, SledStore, Store, StoreError, Tree};
use academie::text::Catalog;
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CHANNEL: ChannelId = ChannelId(42);
const ANNA_ANSWER: &str = "Annas-antwoord-7c1e over de dijkversterking";
const BRAM_ANSWER: &str = "Brams-answer-2b9d about the dike";

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The sled store, counting its whole-store rewrites; the next one fails when asked to.
struct Counted {
    inner: SledStore,
    rewrites: AtomicUsize,
    fail_next: AtomicBool,
}

impl Store for Counted {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_range(tree, start, end)
    }
    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.inner.last_with_prefix(tree, prefix)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.inner.apply(batch)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.inner.commit(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        self.inner.snapshot()
    }
    fn compact(&self) -> Result<(), StoreError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Io("no room to rewrite (test)".into()));
        }
        self.inner.compact()?;
        self.rewrites.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn set_aside(&self) -> Vec<PathBuf> {
        self.inner.set_aside()
    }
    fn open_set_aside(&self, path: &Path) -> Result<Box<dyn Store>, StoreError> {
        self.inner.open_set_aside(path)
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
}

struct Academy {
    dir: tempfile::TempDir,
    engine: Engine,
    store: Arc<Counted>,
    clock: Arc<TestClock>,
}

fn settings(dir: &Path) -> Settings {
    Settings {
        erasures_dir: Some(dir.join("db.erasing")),
        ..Settings::default()
    }
}

/// An academy on a sled database in `dir` (kept by the caller across a reopen).
fn open_in(dir: tempfile::TempDir) -> Academy {
    let settings = settings(dir.path());
    open_with(dir, settings)
}

/// As [`open_in`], publishing its digests on a site in `dir/site`.
fn open_with_site(dir: tempfile::TempDir) -> Academy {
    let settings = Settings {
        site_dir: Some(dir.path().join("site")),
        ..settings(dir.path())
    };
    open_with(dir, settings)
}

fn open_with(dir: tempfile::TempDir, settings: Settings) -> Academy {
    let store = Arc::new(Counted {
        inner: SledStore::open(&dir.path().join("db"), None).unwrap(),
        rewrites: AtomicUsize::new(0),
        fail_next: AtomicBool::new(false),
    });
    let clock = Arc::new(TestClock(Mutex::new(
        DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .into(),
    )));
    let engine = academie::local(Engine::new(
        store.clone(),
        Arc::new(Catalog::embedded().unwrap()),
        clock.clone(),
        settings,
    ));
    Academy {
        dir,
        engine,
        store,
        clock,
    }
}

fn person(id: u64, name: &str, role: Role, lang: Lang) -> Ctx {
    Ctx {
        actor: Actor {
            id: UserId(id),
            name: name.into(),
            lang,
            role,
        },
        channel: Some(CHANNEL),
        server: None,
    }
}

fn moderator() -> Ctx {
    person(1, "Mira Moderator", Role::Moderator, Lang::Nl)
}
fn anna() -> Ctx {
    person(73_519_004_211, "Anna Aalbersma", Role::Member, Lang::Nl)
}
fn bram() -> Ctx {
    person(73_519_004_377, "Bram Bakkerveld", Role::Member, Lang::En)
}

impl Academy {
    fn ok(&self, ctx: &Ctx, req: Request) -> academie::reply::Reply {
        match self.engine.handle(ctx, req.clone()) {
            Ok(r) => r,
            Err(f) => panic!("{req:?} failed: {f}"),
        }
    }

    /// A round in which Anna and Bram answer.
    fn populate(&self) {
        self.ok(
            &moderator(),
            Request::Setup {
                task: "Dijkversterking Oost".into(),
                region: "Gelderland".into(),
                layers: vec![Layer::National, Layer::Municipality],
                lang: None,
                zone: None,
            },
        );
        self.ok(
            &moderator(),
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        );
        for (who, text) in [(anna(), ANNA_ANSWER), (bram(), BRAM_ANSWER)] {
            self.ok(
                &who,
                Request::AnswerSubmit {
                    round: None,
                    text: text.into(),
                },
            );
        }
    }

    fn rewrites(&self) -> usize {
        self.store.rewrites.load(Ordering::SeqCst)
    }

    fn records(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("db.erasing"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// The messages waiting for `user`, as text.
    fn messages_to(&self, user: &Ctx) -> Vec<String> {
        self.engine
            .outbox()
            .waiting()
            .unwrap()
            .into_iter()
            .filter(|m| m.to == Recipient::User(user.actor.id))
            .map(|m| m.reply.all_text())
            .collect()
    }

    fn deliver_all(&self) {
        for m in self.engine.outbox().waiting().unwrap() {
            self.engine.outbox().delivered(m.id).unwrap();
        }
    }

    /// Whether any file of the database folder holds `needle`'s bytes.
    fn on_disk(&self, needle: &[u8]) -> bool {
        folder_holds(&self.dir.path().join("db"), needle, &[])
    }

    /// Whether the database files hold anything of `who`: their answer, name or id.
    fn holds(&self, who: &Ctx, answer: &str) -> bool {
        self.on_disk(answer.as_bytes())
            || self.on_disk(who.actor.name.as_bytes())
            || self.on_disk(who.actor.id.0.to_string().as_bytes())
            || self.on_disk(&who.actor.id.key())
    }
}

#[test]
fn the_reply_comes_before_the_rewrite_and_one_rewrite_serves_several_deletions() {
    let a = open_in(tempfile::tempdir().unwrap());
    a.populate();
    a.store.inner.flush().unwrap();
    assert!(a.holds(&anna(), ANNA_ANSWER) && a.holds(&bram(), BRAM_ANSWER));

    let anna_reply = a.ok(&anna(), Request::MyDataDelete { confirm: true });
    let bram_reply = a.ok(&bram(), Request::MyDataDelete { confirm: true });
    assert_eq!(
        anna_reply.body,
        "Verwijderd: je profiel, 1 antwoord en 0 lessen. Niemand ziet ze nog in de academie. \
         Uit haar bestanden op schijf en uit de reservekopieën die ze zelf maakt, wist ze ze \
         binnen tien minuten; je krijgt een bericht zodra dat gebeurd is. Lukt het niet meteen, \
         dan blijft ze het proberen, ook na een herstart, en krijg je dat bericht pas als het \
         gelukt is."
    );
    assert!(
        bram_reply.body.starts_with(
            "Deleted: your profile, 1 answer and 0 lessons. Nobody sees them in the academy"
        ),
        "{}",
        bram_reply.body
    );
    // Both replies came with no rewrite at all: the removed bytes are still in the files.
    assert_eq!(a.rewrites(), 0, "no rewrite ran before the replies");
    assert!(
        a.on_disk(ANNA_ANSWER.as_bytes()),
        "sled keeps the removed bytes until the rewrite, so the next checks can fail"
    );
    assert_eq!(a.records(), 2, "each deletion is recorded until it is done");
    let export = a.ok(&anna(), Request::MyDataExport);
    assert!(
        !export.attachments[0]
            .bytes
            .windows(ANNA_ANSWER.len())
            .any(|w| w == ANNA_ANSWER.as_bytes()),
        "gone from the academy at the reply"
    );

    // The upkeep: one rewrite for both, then each is told in their own language.
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 1, "one rewrite served both deletions");
    assert!(!a.on_disk(ANNA_ANSWER.as_bytes()) && !a.on_disk(BRAM_ANSWER.as_bytes()));
    assert!(!a.on_disk(b"Anna Aalbersma") && !a.on_disk(b"Bram Bakkerveld"));
    assert_eq!(
        a.messages_to(&anna()),
        [
            "Je gegevens zijn nu ook gewist uit de bestanden van de academie op schijf en uit de \
          reservekopieën die ze zelf maakt. Dit bericht is het laatste wat ze over je bewaart; \
          het wordt gewist zodra het bezorgd is."
        ]
    );
    let to_bram = a.messages_to(&bram());
    assert_eq!(to_bram.len(), 1);
    assert!(
        to_bram[0].starts_with("Your data is now also erased"),
        "{to_bram:?}"
    );
    assert!(
        a.on_disk(anna().actor.id.0.to_string().as_bytes()),
        "the message holds its address until it is delivered"
    );
    assert_eq!(a.records(), 2, "the records wait for the messages");

    // Nothing more happens while the messages wait.
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 1);
    assert_eq!(
        a.messages_to(&anna()).len(),
        1,
        "the message is not sent twice"
    );

    // Delivered: one more rewrite takes the messages' addresses off the disk.
    a.deliver_all();
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 2);
    assert_eq!(a.records(), 0, "both deletions are done");
    assert!(!a.holds(&anna(), ANNA_ANSWER), "nothing of Anna is left");
    assert!(!a.holds(&bram(), BRAM_ANSWER), "nothing of Bram is left");
    assert!(a.on_disk(b"Mira Moderator"), "the others' data is kept");
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 2, "no rewrite without a deletion waiting");
}

#[test]
fn a_stop_between_the_reply_and_the_rewrite_is_finished_at_the_next_start() {
    let a = open_in(tempfile::tempdir().unwrap());
    a.populate();
    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    // The academy stops before its upkeep ran.
    let Academy {
        dir, engine, store, ..
    } = a;
    drop(engine);
    drop(store);
    let a = open_in(dir);
    assert_eq!(a.records(), 1, "the record survived the stop");
    assert!(
        a.on_disk(ANNA_ANSWER.as_bytes()),
        "the files still held her answer at the stop"
    );
    // What `open_engine` runs before anyone is served.
    assert_eq!(a.engine.finish_erasures(), 1);
    assert!(!a.on_disk(ANNA_ANSWER.as_bytes()));
    assert_eq!(
        a.messages_to(&anna()).len(),
        1,
        "she is told at the next start"
    );
    a.deliver_all();
    a.engine.run_due().unwrap();
    assert_eq!(a.records(), 0);
    assert!(!a.holds(&anna(), ANNA_ANSWER));
    assert!(a.on_disk(BRAM_ANSWER.as_bytes()), "Bram's answer is kept");
}

#[test]
fn a_failed_rewrite_keeps_the_record_and_is_tried_again() {
    let a = open_in(tempfile::tempdir().unwrap());
    a.populate();
    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    a.store.fail_next.store(true, Ordering::SeqCst);
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 0);
    assert!(a.on_disk(ANNA_ANSWER.as_bytes()), "not rewritten yet");
    assert!(
        a.messages_to(&anna()).is_empty(),
        "no word before it is done"
    );
    assert_eq!(a.records(), 1, "the record is kept");
    // Not tried at every tick after a failure, but ten minutes later.
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 0);
    *a.clock.0.lock().unwrap() += Duration::minutes(10);
    a.engine.run_due().unwrap();
    assert_eq!(a.rewrites(), 1);
    assert!(!a.on_disk(ANNA_ANSWER.as_bytes()));
    assert_eq!(a.messages_to(&anna()).len(), 1);
}

#[test]
fn what_a_member_does_after_the_reply_is_not_removed_by_the_rewrite() {
    let a = open_in(tempfile::tempdir().unwrap());
    a.populate();
    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    // She takes part again before the upkeep ran: that is new data, hers to keep.
    a.ok(
        &anna(),
        Request::AnswerSubmit {
            round: None,
            text: "Opnieuw meedoen".into(),
        },
    );
    a.engine.run_due().unwrap();
    let export = a.ok(&anna(), Request::MyDataExport);
    let text = String::from_utf8_lossy(&export.attachments[0].bytes).into_owned();
    assert!(text.contains("Opnieuw meedoen"), "{text}");
    assert!(!text.contains(ANNA_ANSWER), "{text}");
}

/// Whether a record of the backup at `path` holds `needle`, in a key or a value.
fn backup_holds(path: &Path, needle: &[u8]) -> bool {
    academie::engine::backup::read_backup(&academie::files::LocalDisk, path)
        .unwrap()
        .entries
        .iter()
        .any(|(_, key, value)| {
            [key, value]
                .iter()
                .any(|b| b.windows(needle.len()).any(|w| w == needle))
        })
}

/// An academy that takes an automatic backup every minute, and the folder they go to.
fn open_with_backups() -> (Academy, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("db.backups");
    let mut a = open_in(dir);
    a.engine = academie::local(Engine::new(
        a.store.clone(),
        Arc::new(Catalog::embedded().unwrap()),
        a.clock.clone(),
        Settings {
            backups: Some(academie::engine::backup::Policy {
                dir: backups.clone(),
                keep: 5,
                every: Duration::minutes(1),
            }),
            ..settings(a.dir.path())
        },
    ));
    (a, backups)
}

#[test]
fn a_backup_taken_while_the_message_waits_is_rewritten_after_it_left() {
    let (a, backups) = open_with_backups();
    a.populate();
    let before = a.engine.backup_if_due().unwrap().expect("a first backup");
    assert!(backup_holds(&before, ANNA_ANSWER.as_bytes()));
    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    a.engine.run_due().unwrap();
    assert!(!backup_holds(&before, ANNA_ANSWER.as_bytes()));
    let id = anna().actor.id.0.to_string();
    assert!(!backup_holds(&before, id.as_bytes()));
    // A backup is taken while the message to her waits: it holds its address.
    *a.clock.0.lock().unwrap() += Duration::minutes(2);
    a.engine.run_due().unwrap();
    let during =
        academie::engine::backup::automatic(&academie::files::LocalDisk, &backups)[0].clone();
    assert_ne!(during, before);
    assert!(backup_holds(&during, id.as_bytes()), "the check can fail");
    a.deliver_all();
    a.engine.run_due().unwrap();
    assert_eq!(a.records(), 0);
    assert!(!backup_holds(&during, id.as_bytes()));
    assert!(!backup_holds(&during, &anna().actor.id.key()));
    assert!(
        backup_holds(&during, BRAM_ANSWER.as_bytes()),
        "the rest is kept"
    );
    assert!(!a.holds(&anna(), ANNA_ANSWER));
}

#[test]
fn the_console_killed_right_after_the_reply_finishes_and_tells_at_the_next_start() {
    use std::io::{BufRead, Write};
    const NAME: &str = "Wilhelmina Wisbaar";
    const TEXT: &str = "Wisbaar-antwoord-5e0c over de uiterwaarden";
    let dir = tempfile::tempdir().unwrap();
    let (out, err, ok) = crate::binary::console(
        dir.path(),
        &[],
        &format!(
            "/instellen opgave: Uiterwaarden regio: Gelderland lagen: rijk, gemeente\n\
             /moderator ronde start stap:1\n/als {NAME}\n/antwoord {TEXT}\n/stop\n"
        ),
    );
    assert!(ok && !out.contains('⚠'), "{err}\n{out}");
    let id = academie::console::user_id_for(NAME).0.to_string();
    assert!(folder_holds(dir.path(), TEXT.as_bytes(), &["export"]));

    let mut child = crate::binary::academie(dir.path())
        .arg("console")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("/als {NAME}\n/mijngegevens verwijderen bevestig:ja\n").as_bytes())
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let replied = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("je krijgt een bericht zodra dat gebeurd is"));
    assert!(replied, "the deletion replied");
    // Killed as soon as the reply is read: the rewrite may have begun, but the message that
    // ends it needs the next tick at the earliest.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let record = dir.path().join("db.erasing").join(format!("{id}.json"));
    assert!(record.exists(), "the promise outlives the process");

    let (out, err, ok) = crate::binary::console(dir.path(), &[], "/stop\n");
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains(
            "Je gegevens zijn nu ook gewist uit de website, uit de bestanden van de academie"
        ),
        "the member is told after the restart:\n{out}"
    );
    assert!(!record.exists(), "the record is gone once it is done");
    for needle in [TEXT, NAME, id.as_str()] {
        assert!(
            !folder_holds(dir.path(), needle.as_bytes(), &["export"]),
            "{needle} is left in the files"
        );
    }
}

/// Shares a lesson as `who` and has the moderator approve it; its id.
fn shared_lesson(a: &Academy, who: &Ctx, title: &str) -> LessonId {
    let reply = a.ok(
        who,
        Request::LessonShare(academie::engine::LessonDraft {
            title: title.into(),
            happened: format!("Wat er gebeurde: {title}."),
            lesson: format!("Wat we leerden: {title}."),
            order: Order::First,
            steps: vec![Step::Issue],
            perspective: None,
            tags: vec![],
            attribution: Attribution::Named,
        }),
    );
    let id = reply
        .all_text()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|w| w.strip_prefix('L').and_then(|n| n.parse().ok()))
        .map(LessonId)
        .unwrap_or_else(|| panic!("no lesson id in {}", reply.all_text()));
    a.ok(&moderator(), Request::ReviewApprove { id });
    id
}

/// Digests another composed may list a deleted member's lessons by id: a draft, and a digest
/// that published them unchanged. The reply does not rewrite them (a digest may list the whole
/// library); meanwhile each shows only the lessons still there, and the upkeep takes the ids
/// out, so their counts are right again.
#[test]
fn digests_listing_a_deleted_lesson_leave_it_out_at_once_and_forget_it_in_the_upkeep() {
    let a = open_in(tempfile::tempdir().unwrap());
    a.populate();
    let hers = shared_lesson(&a, &anna(), "Annas-les-4f2a over het mandaat");
    let his = shared_lesson(&a, &bram(), "Brams lesson on the budget");
    let compose = |title: &str| {
        let draft = a.ok(
            &moderator(),
            Request::DigestCompose {
                title: Some(title.into()),
                filter: DigestFilter::default(),
            },
        );
        match draft.choices.last().map(|c| c.action.clone()) {
            Some(academie::reply::Action::PublishDigest(id)) => id,
            _ => panic!("no draft: {draft:?}"),
        }
    };
    let draft = compose("Maart");
    let published = compose("Februari");
    a.ok(&moderator(), Request::DigestPublish { id: published });
    let stored = |id: DigestId| -> Digest {
        let bytes = a.store.get(Tree::Digests, &id.key()).unwrap().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    for id in [draft, published] {
        assert_eq!(stored(id).lessons, [hers, his]);
    }

    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    for id in [draft, published] {
        assert_eq!(
            stored(id).lessons,
            [hers, his],
            "{id}: not rewritten by the reply"
        );
        let shown = a.ok(&moderator(), Request::DigestShow { id }).all_text();
        assert!(
            shown.contains("Brams lesson") && !shown.contains("Annas-les"),
            "{id}: {shown}"
        );
    }
    // The list of digests counts what they show already.
    let list = a.ok(&moderator(), Request::DigestList).all_text();
    assert!(
        list.contains("Maart · 1 les ·") && list.contains("Februari · 1 les ·"),
        "before the upkeep: {list}"
    );

    a.engine.run_due().unwrap();
    for id in [draft, published] {
        assert_eq!(
            stored(id).lessons,
            [his],
            "{id}: the upkeep took her id out"
        );
    }
    let list = a.ok(&moderator(), Request::DigestList).all_text();
    assert!(
        list.contains("Maart · 1 les ·") && list.contains("Februari · 1 les ·"),
        "{list}"
    );
    assert!(!a.on_disk(b"Annas-les-4f2a"), "her lesson left the files");
}

/// A site that cannot be written keeps showing a deleted member's lesson in its digest: she is
/// not told her data is gone until a write succeeded.
#[test]
fn a_member_is_not_told_their_data_is_gone_while_the_site_cannot_be_written() {
    let a = open_with_site(tempfile::tempdir().unwrap());
    a.populate();
    shared_lesson(&a, &anna(), "Annas-les-8d1e over de dijk");
    shared_lesson(&a, &bram(), "Brams lesson on the dike");
    let draft = a.ok(
        &moderator(),
        Request::DigestCompose {
            title: Some("Maart".into()),
            filter: DigestFilter::default(),
        },
    );
    let Some(academie::reply::Action::PublishDigest(id)) =
        draft.choices.last().map(|c| c.action.clone())
    else {
        panic!("no draft: {draft:?}")
    };
    a.ok(&moderator(), Request::DigestPublish { id });
    let site = a.dir.path().join("site");
    let page = site.join(format!("digests/{id}.html"));
    let shows_her = || folder_holds(&site, b"Annas-les-8d1e", &[]);
    assert!(shows_her(), "her lesson is on the site");

    let reply = a.ok(&anna(), Request::MyDataDelete { confirm: true });
    assert!(
        reply
            .body
            .contains("Uit de pagina's van de website die ze nog tonen"),
        "{}",
        reply.body
    );
    // The digest's folder cannot be written: its page stays as it was.
    let aside = a.dir.path().join("digests-aside");
    std::fs::rename(site.join("digests"), &aside).unwrap();
    std::fs::write(site.join("digests"), b"not a folder").unwrap();
    assert_eq!(a.engine.finish_erasures(), 0, "not finished");
    assert!(
        a.messages_to(&anna()).is_empty(),
        "no word while a page may show her"
    );
    assert_eq!(a.records(), 1, "the record is kept");

    // Writable again: the next try writes the site, and only then is she told.
    std::fs::remove_file(site.join("digests")).unwrap();
    std::fs::rename(&aside, site.join("digests")).unwrap();
    assert!(shows_her(), "the page still shows her");
    *a.clock.0.lock().unwrap() += Duration::minutes(10);
    a.engine.run_due().unwrap();
    assert!(!shows_her(), "written without her");
    assert!(page.is_file(), "the digest's page is there");
    let told = a.messages_to(&anna());
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].starts_with("Je gegevens zijn nu ook gewist uit de website"),
        "{told:?}"
    );
}

/// The reply takes a deleted member's lessons out of the index's lists later (rewriting the
/// lists of a large library would make it grow with the library): meanwhile no search, count
/// or backup shows them, the database checks as sound, and the upkeep takes their words out
/// of the lists before the files are rewritten.
#[test]
fn a_deleted_lesson_leaves_every_search_at_once_and_the_index_in_the_upkeep() {
    let (a, _) = open_with_backups();
    a.populate();
    shared_lesson(&a, &anna(), "Annaswoord-9b2c over het waterschap");
    shared_lesson(&a, &bram(), "Brams lesson about the waterschap");
    let search = |text: Option<&str>| {
        let query = academie::search::SearchQuery {
            text: text.map(str::to_string),
            order: Some(Order::First),
            ..Default::default()
        };
        a.ok(&bram(), Request::LessonSearch(query)).all_text()
    };
    let found = search(Some("waterschap"));
    assert!(
        found.contains("Annaswoord-9b2c") && found.contains("Brams lesson"),
        "{found}"
    );
    let lists_hold_her = || {
        a.store
            .scan_prefix(Tree::LessonIndex, &[])
            .unwrap()
            .iter()
            .any(|(k, _)| k.windows(10).any(|w| w == b"annaswoord"))
    };
    assert!(lists_hold_her(), "the check can fail");

    a.ok(&anna(), Request::MyDataDelete { confirm: true });
    let found = search(Some("waterschap"));
    assert!(
        found.contains("1 lesson found") && found.contains("Brams lesson"),
        "{found}"
    );
    let by_her_word = search(Some("annaswoord"));
    assert!(by_her_word.contains("No lessons found"), "{by_her_word}");
    let by_order = search(None);
    assert!(
        by_order.contains("1 lesson found") && by_order.contains("Brams lesson"),
        "{by_order}"
    );
    let report = academie::engine::check::check_store(a.store.as_ref()).unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    // A backup taken before the upkeep holds none of her words, and checks as sound.
    *a.clock.0.lock().unwrap() += Duration::minutes(2);
    let during = a.engine.backup_if_due().unwrap().expect("a backup");
    assert!(!backup_holds(&during, b"annaswoord"));
    academie::engine::backup::check_backup(&academie::files::LocalDisk, &during).unwrap();

    a.engine.run_due().unwrap();
    assert!(
        !lists_hold_her(),
        "the upkeep took her words out of the lists"
    );
    assert_eq!(
        a.store
            .get(Tree::LessonIndex, academie::postings::GONE)
            .unwrap(),
        None,
        "nothing is left for later"
    );
    let report = academie::engine::check::check_store(a.store.as_ref()).unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    assert!(!a.on_disk(b"annaswoord"), "her words left the files");
    let found = search(Some("waterschap"));
    assert!(found.contains("Brams lesson"), "{found}");
}
