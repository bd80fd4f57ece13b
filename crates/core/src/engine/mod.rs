//! The academy's use cases: what members and moderators can do, with every permission check and
//! every rule, returning [`Reply`] data. Knows nothing of Discord or the console.
//!
//! Each mutating use case builds one [`Batch`] and commits it (durably) before it returns its
//! reply, so nothing is confirmed that is not on disk. Writes are serialized by one lock: the
//! counters and read-modify-write steps need no finer scheme at the academy's scale. The
//! frequent member actions release the lock before waiting for the disk, so a room answering
//! at once shares flushes instead of queueing for one each.

mod applied;
mod applied_at;
mod as_of;
mod audit;
pub mod backup;
mod backup_in_place;
mod cadence;
pub mod check;
mod clock;
mod collab;
mod digests;
mod doing;
mod failure;
mod health;
mod lessons;
mod library;
mod meetings;
mod mentions;
mod migrate;
mod mydata;
mod outbox;
mod questions;
mod request;
mod review;
mod rounds;
mod schedule;
mod settings;
mod shared;
mod site_state;
mod step5;
mod suggest;
mod together;
mod user_text;

pub use applied_at::Expected as AppliedEntries;
pub use audit::AuditEntry;
pub use clock::{Clock, FastClock, SystemClock};
pub use doing::cell as doing_cell;
pub use failure::{Failure, Outcome, Refusal};
pub use lessons::LessonForm;
pub use library::{
    embedded_files as embedded_library, folder_files as library_files, parse_library_file,
    ImportReport, LibraryLesson,
};
pub use meetings::{meeting_tag, EventPlan};
pub use outbox::{Outbox, Outgoing, Recipient};
pub use request::{Ctx, HelpLine, LessonChanges, LessonDraft, Request};
pub use schedule::{Job, JobKind};
pub use settings::Settings;
pub use shared::ExchangeChange;
pub use site_state::STATE_FILE as SITE_STATE_FILE;
use user_text::is_invisible;
pub use user_text::{clean_line, clean_text, is_blank, shorten};

use crate::disk::{Disk, MemoryDisk};
use crate::domain::*;
use crate::figures::Raster;
use crate::reply::Reply;
use crate::site::Templates;
use crate::store::{Batch, Store, StoreError, Tree};
use crate::text::{keys as k, Catalog};
pub use crate::time::When;
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, Mutex, MutexGuard};

/// Limits on what users write, in characters. Chosen to fit Discord's modal fields (4,000) and
/// to keep a reveal of many answers readable.
pub mod limits {
    pub const ANSWER: usize = 2000;
    pub const TITLE: usize = 120;
    pub const LESSON_FIELD: usize = 2000;
    pub const TAG: usize = 30;
    pub const TAGS: usize = 8;
    pub const REASON: usize = 500;
    pub const TASK: usize = 100;
    pub const REGION: usize = 100;
    pub const NAME: usize = 80;
    /// A question to the academy, and an answer to one: what a channel message holds well.
    pub const QUESTION: usize = 1000;
    pub const ADDRESS: usize = 100;
    /// How many weeks a cadence may wait between its rounds.
    pub const WEEKS: std::ops::RangeInclusive<u32> = 1..=52;
}

/// Produces the files that follow a committed change (the pages of the static site) once the
/// engine's write lock is released. Injected, as the clock is, so that whoever runs the engine
/// decides where and how files are written, and no member waits behind that writing.
pub trait FileSink: Send + Sync {
    /// The published site changed: bring its files up to date from `engine`'s committed state.
    fn site_changed(&self, engine: &Engine);
}

/// The sink an engine starts with: the configured site folder, brought up to date from the
/// database (the pages a change touched; the whole site first, and after a failed write).
struct SiteFolder;

impl FileSink for SiteFolder {
    fn site_changed(&self, engine: &Engine) {
        engine.write_configured_site();
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    files: Arc<dyn FileSink>,
    /// Where files are read and written (backups, the site, a deletion's journal); injected.
    disk: Arc<dyn Disk>,
    /// Draws figures as PNG for attachments; injected, none: replies carry no picture.
    raster: Option<Arc<dyn Raster>>,
    text: Arc<Catalog>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    templates: Arc<Templates>,
    write: Mutex<()>,
    /// One deletion's rewrite at a time, taken before `write`: the rewrite runs after the write
    /// lock is released, and two must not run side by side.
    erasing: Mutex<()>,
    /// When the next automatic backup is due, once known; and when pending erasures were last
    /// tried. Kept in memory so `run_due` does not list folders at every call.
    upkeep: Mutex<Upkeep>,
    /// What changed in the published site since the configured site was last written,
    /// recorded with each change.
    site_changes: Mutex<digests::SiteChanges>,
    /// The configured site as this process last wrote it; held while it is written, so two
    /// changes write one after the other.
    site_writer: Mutex<digests::SiteWriter>,
    /// The moment a backup is being read at: what keys held then, kept as batches change them.
    as_of: as_of::AsOf,
    /// Help as written for each language, audience and list of commands asked so far: the
    /// catalog does not change while the academy runs, so each is written once.
    help_written: Mutex<Vec<collab::WrittenHelp>>,
    /// Answers handed in at once, saved by one writer for all of them.
    answers: together::Together<rounds::AnswerWork>,
}

#[derive(Debug, Default)]
struct Upkeep {
    next_backup: Option<DateTime<Utc>>,
    erasures_tried: Option<DateTime<Utc>>,
    /// A deletion was confirmed, or its message waits to leave the outbox: the next `run_due`
    /// finishes the deletions without waiting for the ten minutes.
    erasures_due: bool,
    /// Whose removal a request of this process committed (their record still waits).
    removed_here: std::collections::BTreeSet<crate::domain::UserId>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        text: Arc<Catalog>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Engine {
        Engine {
            store,
            files: Arc::new(SiteFolder),
            disk: Arc::new(MemoryDisk::default()),
            raster: None,
            text,
            clock,
            settings,
            templates: Templates::shared(),
            write: Mutex::new(()),
            erasing: Mutex::new(()),
            upkeep: Mutex::new(Upkeep::default()),
            site_changes: Mutex::new(Default::default()),
            site_writer: Mutex::new(Default::default()),
            as_of: Default::default(),
            help_written: Mutex::default(),
            answers: Default::default(),
        }
    }

    /// An engine with the same texts and clock over another store: for rewriting a copy of the
    /// data (a backup, a database set aside) with the same rules as the live one.
    fn over(&self, store: Arc<dyn Store>) -> Engine {
        Engine::new(
            store,
            self.text.clone(),
            self.clock.clone(),
            Settings {
                default_lang: self.settings.default_lang,
                ..Settings::default()
            },
        )
        .with_disk(self.disk.clone())
    }

    /// Sends the files that follow a change to `files` instead of the configured site folder.
    pub fn with_file_sink(mut self, files: Arc<dyn FileSink>) -> Engine {
        self.files = files;
        self
    }

    /// Reads and writes files on `disk` (by default a disk in memory, which nothing outside
    /// the process sees).
    pub fn with_disk(mut self, disk: Arc<dyn Disk>) -> Engine {
        self.disk = disk;
        self
    }

    /// Attaches figures as PNG drawn by `raster` (by default none are attached).
    pub fn with_raster(mut self, raster: Arc<dyn Raster>) -> Engine {
        self.raster = Some(raster);
        self
    }

    /// The disk this engine reads and writes.
    pub fn disk(&self) -> &dyn Disk {
        self.disk.as_ref()
    }

    /// Uses these digest templates instead of the built-in ones.
    pub fn with_templates(mut self, templates: Arc<Templates>) -> Engine {
        self.templates = templates;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.text
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs one request. The single entry point both adapters use.
    pub fn handle(&self, ctx: &Ctx, request: Request) -> Outcome {
        let audit = self.audit_scope(ctx, &request);
        let reads_nothing = request.reads_nothing();
        let outcome = self
            .dispatch(ctx, request)
            .map_err(|f| self.unwritable_refusal(ctx.actor.lang, f));
        if outcome.is_ok() {
            audit.succeeded();
            // After, so a refusal still changes nothing. A reference text concerns no
            // collaboration and touches no store; the channel's next request records it.
            if !reads_nothing {
                self.note_server(ctx);
            }
        }
        outcome
    }

    fn dispatch(&self, ctx: &Ctx, request: Request) -> Outcome {
        use Request as R;
        match request {
            R::Help(commands) => Ok(self.help(ctx, &commands)),
            R::HelpFor {
                asked,
                commands,
                related,
            } => Ok(self.help_for(ctx, &asked, &commands, &related)),
            R::Setup {
                task,
                region,
                layers,
                lang,
                zone,
            } => self.setup(ctx, task, region, layers, lang, zone),
            R::ShowCollaboration => self.show_collaboration(ctx),
            R::Questions { step } => Ok(self.questions(ctx, step)),
            R::Perspectives => Ok(self.perspectives(ctx)),
            R::Orders => Ok(self.orders(ctx)),
            R::RoundStart { step, deadline } => self.round_start(ctx, step, deadline),
            R::RoundStatus => self.round_status(ctx),
            R::RoundReveal { round } => self.round_reveal(ctx, round),
            R::RoundClose { round } => self.round_close(ctx, round),
            R::AnswerSubmit { text, round } => self.answer_submit(ctx, text, false, round),
            R::AnswerEdit { text, round } => self.answer_submit(ctx, text, true, round),
            R::AnswerWithdraw => self.answer_withdraw(ctx),
            R::AnswerMine => self.answer_mine(ctx),
            R::SetLayer { layer } => self.set_layer(ctx, layer),
            R::LessonShare(draft) => self.lesson_share(ctx, draft),
            R::LessonEdit {
                id,
                changes,
                version,
            } => self.lesson_edit(ctx, id, changes, version),
            R::LessonShow { id } => self.lesson_show(ctx, id),
            R::LessonSearch(query) => self.lesson_search(ctx, query),
            R::LessonMine => self.lesson_mine(ctx),
            R::ReviewQueue { page } => self.review_queue(ctx, page),
            R::ReviewApprove { id } => self.review_approve(ctx, id),
            R::ReviewEdit {
                id,
                changes,
                version,
            } => self.review_edit(ctx, id, changes, version),
            R::ReviewReject { id, reason } => self.review_reject(ctx, id, reason),
            R::ReviewFeature { id } => self.review_feature(ctx, id),
            R::DigestCompose { title, filter } => self.digest_compose(ctx, title, filter),
            R::DigestPublish { id } => self.digest_publish(ctx, id),
            R::DigestList => self.digest_list(ctx),
            R::DigestShow { id } => self.digest_show(ctx, id),
            R::MyDataExport => self.my_data_export(ctx),
            R::MyDataDelete { confirm } => self.my_data_delete(ctx, confirm),
            R::Reminders { how } => self.set_reminders(ctx, how),
            R::LessonApplied { id, note } => self.lesson_applied(ctx, id, note),
            R::Vote { perspective, round } => self.vote(ctx, perspective, round),
            R::Health => self.health(ctx),
            R::AuditLog { page } => self.audit_log(ctx, page),
            R::Place {
                much_yield,
                many_lessons,
            } => self.place(ctx, much_yield, many_lessons),
            R::AskDoingLearning => self.ask_doing_learning(ctx),
            R::DoingLearning => self.doing_learning(ctx),
            R::Cadence {
                step,
                every_weeks,
                paused,
            } => self.set_cadence(ctx, step, every_weeks, paused),
            R::Exchange(change) => self.exchange(ctx, change),
            R::DigestTake { id } => self.digest_take(ctx, id),
            R::Step5Elsewhere => self.step5_elsewhere(ctx),
            R::QuestionAsk { text, attribution } => self.question_ask(ctx, text, attribution),
            R::QuestionAnswer {
                id,
                text,
                attribution,
            } => self.question_answer(ctx, id, text, attribution),
            R::QuestionShow { id } => self.question_show(ctx, id),
            R::QuestionList => self.question_list(ctx),
            R::QuestionHelpful { id, answer } => self.question_helpful(ctx, id, answer),
            R::QuestionToLesson {
                id,
                title,
                order,
                steps,
            } => self.question_to_lesson(ctx, id, title, order, steps),
            R::QuestionConsent { id, consent } => self.question_consent(ctx, id, consent),
            R::MeetingPlan {
                starts,
                minutes,
                title,
                address,
                voice,
            } => self.meeting_plan(ctx, starts, minutes, title, address, voice),
            R::MeetingAgenda { id } => self.meeting_agenda(ctx, id),
            R::MeetingJoin { id } => self.meeting_join(ctx, id),
            R::MeetingLessons { id } => self.meeting_lessons(ctx, id),
        }
    }

    /// Refuses a member, for adapters that check before opening a form; every action checks again.
    pub fn check_moderator(&self, ctx: &Ctx) -> Result<(), Failure> {
        self.require_moderator(ctx)
    }

    /// Flushes the store, for a clean shutdown.
    pub fn flush(&self) -> Result<(), Failure> {
        Ok(self.store.flush()?)
    }

    /// Keeps a search that is too long to travel in a button, under a key derived from its text.
    pub fn keep_search(&self, hash: &str, encoded: &str) -> Result<(), Failure> {
        let key = format!("search:{hash}");
        if self.store.get(Tree::Meta, key.as_bytes())?.is_some() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.put(Tree::Meta, key.into_bytes(), encoded.as_bytes().to_vec());
        self.commit(batch)
    }

    /// A search kept by [`Engine::keep_search`].
    pub fn kept_search(&self, hash: &str) -> Result<Option<String>, Failure> {
        let key = format!("search:{hash}");
        Ok(self
            .store
            .get(Tree::Meta, key.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// A store that cannot write (full disk, read-only folder) is something the person can
    /// understand and an administrator can fix: say so, instead of the generic failure.
    fn unwritable_refusal(&self, lang: Lang, failure: Failure) -> Failure {
        let Failure::Internal(e) = &failure else {
            return failure;
        };
        let full = e.chain().find_map(|c| match c.downcast_ref() {
            Some(StoreError::Unwritable { full, .. }) => Some(*full),
            _ => None,
        });
        let Some(full) = full else {
            return failure;
        };
        tracing::error!("{e:#}");
        // Trying again only helps once someone made room or gave the rights back: say which.
        let key = if full {
            k::ERROR_STORAGE_FULL
        } else {
            k::ERROR_STORAGE
        };
        self.refuse(lang, key, json!({}))
    }

    /// The refusal for a file the academy could not write for lack of room or rights.
    fn storage_refusal(&self, lang: Lang, e: &std::io::Error) -> Failure {
        use std::io::ErrorKind as K;
        let key = match e.kind() {
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => k::ERROR_STORAGE_FULL,
            K::ReadOnlyFilesystem | K::PermissionDenied => k::ERROR_STORAGE,
            _ => k::ERROR_INTERNAL,
        };
        self.refuse(lang, key, json!({}))
    }

    /// The generic text shown for an internal failure, in the user's language.
    pub fn internal_error_text(&self, lang: Lang) -> String {
        self.text.plain(lang, k::ERROR_INTERNAL)
    }

    // ---- shared helpers for the use-case modules ----

    /// The academy's time: what deadlines typed as `3d` count from.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A collaboration's time zone: its own, or the academy's.
    fn zone_of(&self, collab: &Collaboration) -> Tz {
        collab
            .time_zone
            .as_deref()
            .and_then(crate::time::parse_zone)
            .unwrap_or(self.settings.time_zone)
    }

    /// The time zone of a channel's collaboration, or the academy's where there is none.
    fn zone_in(&self, channel: Option<ChannelId>) -> Tz {
        channel
            .and_then(|c| {
                self.load::<Collaboration>(Tree::Collaborations, &c.key())
                    .ok()
                    .flatten()
            })
            .map_or(self.settings.time_zone, |c| self.zone_of(&c))
    }

    /// Whether a round may start by itself on a day: not a weekend, a Dutch national holiday
    /// or a configured holiday.
    fn is_work_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
            && crate::time::dutch_holiday(day).is_none()
            && !self.settings.holidays.contains(&day)
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic in another writer poisons the lock but leaves the store consistent: every
        // write is one atomic batch. Carry on.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn t(&self, lang: Lang, key: &str, data: serde_json::Value) -> String {
        self.text.render(lang, key, &data)
    }

    fn refuse(&self, lang: Lang, key: &'static str, data: serde_json::Value) -> Failure {
        Failure::Refused(Refusal {
            key,
            text: self.t(lang, key, data),
        })
    }

    fn require_moderator(&self, ctx: &Ctx) -> Result<(), Failure> {
        if ctx.actor.role.can_moderate() {
            Ok(())
        } else {
            Err(self.refuse(ctx.actor.lang, k::ERROR_NOT_MODERATOR, json!({})))
        }
    }

    fn require_channel(&self, ctx: &Ctx) -> Result<ChannelId, Failure> {
        ctx.channel
            .ok_or_else(|| self.refuse(ctx.actor.lang, k::ERROR_NOT_IN_CHANNEL, json!({})))
    }

    fn require_collaboration(&self, ctx: &Ctx) -> Result<Collaboration, Failure> {
        let channel = self.require_channel(ctx)?;
        self.load::<Collaboration>(Tree::Collaborations, &channel.key())?
            .ok_or_else(|| self.refuse(ctx.actor.lang, k::ERROR_NOT_CONFIGURED, json!({})))
    }

    fn load<T: DeserializeOwned>(&self, tree: Tree, key: &[u8]) -> Result<Option<T>, Failure> {
        match self.store.get(tree, key)? {
            None => Ok(None),
            Some(bytes) => decode(tree, key, &bytes).map(Some),
        }
    }

    /// The records under `prefix` whose key `wanted` accepts, decoded straight from the store's
    /// buffers (see [`Store::scan_prefix_in_place`]): for a read that keeps a little of many
    /// records, and passes over some by their key alone.
    fn load_where<T: DeserializeOwned>(
        &self,
        tree: Tree,
        prefix: &[u8],
        wanted: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<T>, Failure> {
        let mut out = Vec::new();
        let mut unreadable = None;
        let scanned = self
            .store
            .scan_prefix_in_place(tree, prefix, &mut |key, bytes| {
                if !wanted(key) {
                    return Ok(());
                }
                match decode(tree, key, bytes) {
                    Ok(record) => {
                        out.push(record);
                        Ok(())
                    }
                    Err(failure) => {
                        unreadable = Some(failure);
                        Err(StoreError::Io("a record cannot be read".into()))
                    }
                }
            });
        if let Some(failure) = unreadable {
            return Err(failure);
        }
        scanned?;
        Ok(out)
    }

    fn load_all<T: DeserializeOwned>(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<T>, Failure> {
        self.store
            .scan_prefix(tree, prefix)?
            .iter()
            .map(|(key, bytes)| decode(tree, key, bytes))
            .collect()
    }

    fn lesson(&self, lang: Lang, id: LessonId) -> Result<Lesson, Failure> {
        self.load::<Lesson>(Tree::Lessons, &id.key())?
            .ok_or_else(|| self.refuse(lang, k::LESSON_NOT_FOUND, json!({"id": id.to_string()})))
    }

    /// Reserves the next id of a kind in `batch`; the caller holds the write lock.
    fn next_id(&self, batch: &mut Batch, kind: &str) -> Result<u64, Failure> {
        Ok(self.reserve_ids(batch, kind, 1)?.start)
    }

    /// Reserves `n` consecutive ids of a kind in `batch`; the caller holds the write lock and
    /// commits the batch once. Reservations in the same batch follow each other.
    fn reserve_ids(
        &self,
        batch: &mut Batch,
        kind: &str,
        n: u64,
    ) -> Result<std::ops::Range<u64>, Failure> {
        let key = [crate::store::COUNTER_PREFIX, kind.as_bytes()].concat();
        let stored = match batch.pending(Tree::Meta, &key) {
            Some(pending) => pending.map(<[u8]>::to_vec),
            None => self.store.get(Tree::Meta, &key)?,
        };
        let current = match stored {
            Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| {
                Failure::Internal(anyhow::anyhow!("counter {kind} is not eight bytes"))
            })?),
            None => 0,
        };
        batch.put(Tree::Meta, key, (current + n).to_be_bytes().to_vec());
        Ok(current + 1..current + n + 1)
    }

    fn commit(&self, mut batch: Batch) -> Result<(), Failure> {
        self.audit_into(&mut batch)?;
        Self::note_mentions(&mut batch)?;
        self.note_applications(&mut batch)?;
        self.keep_moment(&batch)?;
        self.store.commit(batch).map_err(Failure::from)
    }

    /// Before a batch is applied (under the write lock): what it changes, as it was at the
    /// moment a backup is being read at, if one is.
    fn keep_moment(&self, batch: &Batch) -> Result<(), Failure> {
        let keys = batch.ops().iter().map(|(t, k, _)| (*t, k.as_slice()));
        Ok(self.as_of.before_write(self.store.as_ref(), keys)?)
    }

    /// Applies the batch under the write lock, releases the lock, then waits until the batch is
    /// durable. Members answering at once thus share flushes (group commit) while each is
    /// still confirmed only once their own write is on disk. For use cases that do nothing
    /// after their write that needs the lock.
    fn commit_unlocking(&self, guard: MutexGuard<'_, ()>, batch: Batch) -> Result<(), Failure> {
        self.apply_locked(batch)?;
        drop(guard);
        self.store.sync()?;
        Ok(())
    }

    /// Applies the batch with what every change brings (its audit entry, mentions, the
    /// applications' order, what a running backup must keep); the caller holds the write lock
    /// and makes it durable after releasing it.
    fn apply_locked(&self, mut batch: Batch) -> Result<(), Failure> {
        self.audit_into(&mut batch)?;
        Self::note_mentions(&mut batch)?;
        self.note_applications(&mut batch)?;
        self.keep_moment(&batch)?;
        self.store.apply(batch)?;
        Ok(())
    }

    fn member(&self, user: UserId) -> Result<Option<Member>, Failure> {
        self.load(Tree::Members, &user.key())
    }

    fn step_label(&self, lang: Lang, step: Step) -> String {
        self.text.step_label(lang, step)
    }
}

impl Engine {
    /// The private reply that opens page `page` (of `pages`) of a list of `count`: `none` when
    /// the list is empty, else `found` with the count and where this page is.
    fn page_header(
        &self,
        lang: Lang,
        (count, page, pages): (usize, usize, usize),
        none: &str,
        found: &str,
        title: &str,
    ) -> Reply {
        Reply::private(if count == 0 {
            self.text.plain(lang, none)
        } else {
            self.t(
                lang,
                found,
                json!({"count": count, "page": page + 1, "pages": pages}),
            )
        })
        .titled(self.text.plain(lang, title))
    }

    /// Buttons to the page before and after `page` (of `pages`) where there is one; `to` is
    /// the action that shows a page.
    fn page_choices(
        &self,
        lang: Lang,
        mut reply: Reply,
        (page, pages): (usize, usize),
        to: impl Fn(usize) -> crate::reply::Action,
    ) -> Reply {
        if page > 0 {
            reply = reply.choice(self.text.plain(lang, k::SEARCH_PREVIOUS), to(page - 1));
        }
        if page + 1 < pages {
            reply = reply.choice(self.text.plain(lang, k::SEARCH_NEXT), to(page + 1));
        }
        reply
    }

    /// Attaches a figure as a PNG. One that cannot be drawn is logged and left out: the reply
    /// still says everything in words.
    fn attach_figure(&self, reply: &mut Reply, svg: &str, filename: String) {
        let Some(raster) = &self.raster else {
            return;
        };
        attach_png(reply, raster.png(svg, 1200), filename);
    }
}

fn attach_png(reply: &mut Reply, png: anyhow::Result<Vec<u8>>, filename: String) {
    match png {
        Ok(bytes) => reply
            .attachments
            .push(crate::reply::Attachment { filename, bytes }),
        Err(e) => tracing::error!("could not draw {filename}: {e:#}"),
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| Failure::Internal(e.into()))
}

fn decode<T: DeserializeOwned>(tree: Tree, key: &[u8], bytes: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(bytes).map_err(|e| {
        Failure::Internal(anyhow::anyhow!(
            "record in tree {} at key {:02x?} cannot be read: {e}",
            tree.name(),
            key
        ))
    })
}

impl Engine {
    /// Checks a piece of user text against its limit, naming the field in the refusal.
    fn check_text(
        &self,
        lang: Lang,
        field: &'static str,
        text: &str,
        max: usize,
    ) -> Result<(), Failure> {
        if text.chars().all(is_invisible) {
            let name = self.text.plain(lang, field);
            return Err(self.refuse(lang, k::ERROR_EMPTY, json!({"field": name})));
        }
        let len = text.chars().count();
        if len > max {
            let name = self.text.plain(lang, field);
            return Err(self.refuse(
                lang,
                k::ERROR_TOO_LONG,
                json!({"field": name, "max": max, "length": len}),
            ));
        }
        Ok(())
    }
}
