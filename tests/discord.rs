//! The Discord adapter end to end: the real serenity client in `academie::discord::serve`,
//! talking to the fake Discord in `support`, which checks every request against Discord's
//! OpenAPI spec and the rules the spec does not encode. Each test asserts what users would see.

use crate::support;

use crate::support::text::{contains, lacks};
use academie::discord::{serve, ServeOptions, DEFER_AFTER};
use academie::domain::Lang;
use academie::engine::Settings;
use academie::store::{SledStore, Store, Tree};
use academie::text::Catalog;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::academy::{self, TestClock};
use support::fake_discord::*;

const WAIT: Duration = Duration::from_secs(10);
const MOD_ROLE: u64 = 700_000_000_000_000_001;

struct Bot {
    fake: FakeDiscord,
    store: Arc<SledStore>,
    clock: Arc<TestClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

async fn start_with(defer_after: Duration, guilds: Vec<u64>) -> Bot {
    start_full(defer_after, guilds, Settings::default(), None).await
}

async fn start_full(
    defer_after: Duration,
    guilds: Vec<u64>,
    settings: Settings,
    questions_forum: Option<u64>,
) -> Bot {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("store"));
    // The bot's clock, moved by the test; it starts at the real time.
    let clock = TestClock::at(chrono::Utc::now());
    let engine = Arc::new(academy::engine(store.clone(), clock.clone(), settings));
    engine.seed_library_if_empty().expect("library");
    let options = ServeOptions {
        guilds,
        moderator_role: Some(MOD_ROLE),
        defer_after,
        questions_forum,
        ..academy::serve_options(fake.base_url())
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(engine, options, async move {
        let _ = rx.await;
    }));
    fake.wait_ready(WAIT).await.expect("the bot connected");
    Bot {
        fake,
        store,
        clock,
        stop: Some(tx),
        task: Some(task),
        _dir: dir,
    }
}

async fn start() -> Bot {
    start_with(DEFER_AFTER, Vec::new()).await
}

/// A bot whose channel is set up as a collaboration.
async fn set_up() -> Bot {
    let bot = start().await;
    bot.setup().await;
    bot
}

impl Bot {
    async fn reply(&self, sent: &Sent) -> Response {
        self.fake
            .response(sent, WAIT)
            .await
            .unwrap_or_else(|e| panic!("no reply to {:?}: {e}", sent.payload["data"]))
    }

    /// Runs a slash command and returns the bot's reply.
    async fn cmd(&self, user: &FakeUser, command: &str, options: &[(&str, Value)]) -> Response {
        let sent = self
            .fake
            .slash(user, Some(CHANNEL_ID), command, options)
            .await;
        self.reply(&sent).await
    }

    /// The reply to `sent` once a button labelled with `label` arrived in it (or the wait is
    /// over: then the reply as it is, for the test to find no button).
    async fn reply_with_button(&self, sent: &Sent, label: &str) -> Response {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let reply = self.reply(sent).await;
            if reply.button(label).is_some() || tokio::time::Instant::now() >= deadline {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, user: &FakeUser, custom_id: &str) -> Response {
        let sent = self.fake.click(user, Some(CHANNEL_ID), custom_id).await;
        self.reply(&sent).await
    }

    async fn submit(&self, user: &FakeUser, custom_id: &str, fields: &[(&str, &str)]) -> Response {
        let sent = self
            .fake
            .submit(user, Some(CHANNEL_ID), custom_id, fields)
            .await;
        self.reply(&sent).await
    }

    /// Sets up the collaboration in the test channel, as an administrator.
    async fn setup(&self) {
        let admin = FakeUser::admin(1, "Beheerder");
        let r = self.cmd(&admin, "setup", &academy::delta_setup()).await;
        contains(&r.text(), "Klimaatadaptatie");
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(WAIT, task)
                .await
                .expect("serve stopped in time")
                .expect("serve task");
            result.expect("serve ended cleanly");
        }
        self.fake.assert_clean();
    }

    /// The files the bot attached to its answers to `sent`.
    fn files(&self, sent: &Sent) -> Vec<(String, Vec<u8>)> {
        self.fake
            .callbacks_for(sent)
            .into_iter()
            .flat_map(|r| r.files)
            .collect()
    }

    fn answers(&self) -> usize {
        self.store
            .scan_prefix(Tree::Answers, &[])
            .expect("scan")
            .len()
    }
}

/// Shares a lesson as `share` does; returns its id.
async fn shared_id(
    bot: &Bot,
    user: &FakeUser,
    title: &str,
    lesson: &str,
    attribution: &str,
) -> String {
    lesson_id(&share(bot, user, title, lesson, attribution).await.text())
}

/// A share → form → submit, returning the bot's confirmation.
async fn share(
    bot: &Bot,
    user: &FakeUser,
    title: &str,
    lesson: &str,
    attribution: &str,
) -> Response {
    let open = bot
        .cmd(
            user,
            "lesson share",
            &[
                ("order", json!("second")),
                ("steps", json!("1,3")),
                ("as", json!(attribution)),
            ],
        )
        .await;
    assert_eq!(open.callback_type, 9, "the share command opens a form");
    let form = open.callback["custom_id"]
        .as_str()
        .expect("form id")
        .to_owned();
    bot.submit(
        user,
        &form,
        &[
            ("title", title),
            (
                "happened",
                "Aan tafel bleek iedereen iets anders te bedoelen.",
            ),
            ("lesson", lesson),
            ("tags", "water, rollen"),
        ],
    )
    .await
}

fn lesson_id(text: &str) -> String {
    let start = text.find('L').expect("a lesson id");
    text[start..]
        .chars()
        .take_while(|c| *c == 'L' || c.is_ascii_digit())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_with_dutch_localizations() {
    let bot = start().await;
    let (path, body) = bot.fake.wait_commands(WAIT).await.expect("registration");
    assert_eq!(path, format!("/api/v10/applications/{APP_ID}/commands"));
    let list = body.as_array().expect("an array of commands");
    let find = |name: &str| {
        list.iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("command {name} registered"))
    };
    assert_eq!(find("round")["name_localizations"]["nl"], "ronde");
    assert_eq!(find("help")["name_localizations"]["nl"], "hulp");
    assert_eq!(find("lesson")["name_localizations"]["nl"], "les");
    for c in list {
        let nl = c["description_localizations"]["nl"].as_str().unwrap_or("");
        assert!(!nl.is_empty(), "{} has a Dutch description", c["name"]);
    }
    let round = find("moderator")["options"]
        .as_array()
        .and_then(|o| o.iter().find(|s| s["name"] == "round"))
        .expect("moderator round")
        .clone();
    assert_eq!(round["type"], 2, "a group of subcommands");
    assert_eq!(round["name_localizations"]["nl"], "ronde");
    let start_sub = round["options"]
        .as_array()
        .and_then(|o| o.iter().find(|s| s["name"] == "start"))
        .expect("moderator round start")
        .clone();
    let step = &start_sub["options"][0];
    assert_eq!(step["name_localizations"]["nl"], "stap");
    assert_eq!(step["choices"].as_array().map(Vec::len), Some(5));
    // Every fixed choice is named in both languages, the governance layers and the learning
    // orders as the academy names them.
    fn choices(v: &Value, out: &mut Vec<Value>) {
        if let Some(c) = v["choices"].as_array() {
            out.extend(c.iter().cloned());
        }
        for o in v["options"].as_array().into_iter().flatten() {
            choices(o, out);
        }
    }
    let mut all = Vec::new();
    for c in list {
        choices(c, &mut all);
    }
    for c in &all {
        let (en, nl) = (c["name"].as_str(), c["name_localizations"]["nl"].as_str());
        assert!(
            en.is_some_and(|s| !s.is_empty()) && nl.is_some_and(|s| !s.is_empty()),
            "{c}"
        );
    }
    let named = |nl: &str| all.iter().any(|c| c["name_localizations"]["nl"] == nl);
    for nl in [
        "Gemeente",
        "Waterschap",
        "Eerste orde",
        "Anoniem",
        "Nederlands",
    ] {
        assert!(named(nl), "a choice named {nl}: {all:?}");
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_round_through_buttons_and_forms() {
    let bot = set_up().await;
    // A moderator by role only: the server's administrator let that role use /moderator
    // (Server Settings → Integrations), as the README asks.
    let moderator = FakeUser::member(2, "Mira").with_role(MOD_ROLE);
    bot.fake.allow_role("moderator", MOD_ROLE);
    let anouk = FakeUser::member(3, "Anouk");
    let bram = FakeUser::member(4, "Bram").locale("en-US");

    let started = bot
        .cmd(&moderator, "moderator round start", &[("step", json!("1"))])
        .await;
    assert!(
        !started.is_ephemeral(),
        "the round is announced in the channel"
    );
    contains(&started.text(), "Wat is volgens ons het vraagstuk");
    let answer_button = started.button("Antwoord").expect("an answer button");

    let anouk_text = "Water vasthouden in de polder, samen met de boeren.";
    let bram_text = "Keeping the dikes safe while the region keeps growing.";
    for (user, text) in [(&anouk, anouk_text), (&bram, bram_text)] {
        let form = bot.click(user, &answer_button).await;
        assert_eq!(form.callback_type, 9, "the button opens a form");
        let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
        let saved = bot.submit(user, &form_id, &[("text", text)]).await;
        assert!(saved.is_ephemeral());
        assert!(!saved.text().is_empty());
    }
    assert_eq!(bot.answers(), 2);

    // Editing: the form opens pre-filled with the member's own answer, and only theirs.
    let again = bot.click(&anouk, &answer_button).await;
    assert!(again.text().contains(anouk_text));
    assert!(!again.text().contains(bram_text));

    // Discord hides /moderator from members; should an administrator open it to everyone
    // (the @everyone role has the server's id), the academy itself still refuses.
    bot.fake.allow_role("moderator", GUILD_ID);
    let refused = bot.cmd(&anouk, "moderator round reveal", &[]).await;
    assert!(refused.is_ephemeral());
    contains(&refused.text(), "moderator");
    assert!(!refused.text().contains(bram_text));

    let status = bot.cmd(&anouk, "round status", &[]).await;
    assert!(status.text().contains("Bram") && status.text().contains("Anouk"));
    assert!(!status.text().contains(anouk_text) && !status.text().contains(bram_text));

    let revealed = bot.cmd(&moderator, "moderator round reveal", &[]).await;
    assert!(!revealed.is_ephemeral());
    let text = revealed.text();
    assert!(
        text.contains(anouk_text) && text.contains(bram_text),
        "{text}"
    );
    assert!(text.contains("Wat is volgens ons het vraagstuk"));
    assert!(
        text.contains("Stationair draaien?"),
        "the idling meter follows a step-1 reveal: {text}"
    );
    // One answer in Dutch and one in English: words of two languages are not compared, and
    // both the reveal and the health view say there is too little to judge.
    contains(&text, "Te weinig om te beoordelen: geen twee antwoorden");
    let health = bot.cmd(&bram, "health", &[]).await;
    assert!(health.is_ephemeral());
    assert!(
        health.text().contains("R1 (") && health.text().contains("): too little to judge"),
        "{}",
        health.text()
    );
    assert!(
        health
            .text()
            .contains("No picture yet: too little to judge."),
        "{}",
        health.text()
    );

    // After the reveal, the old form can no longer change an answer.
    let old_form = again.callback["custom_id"].as_str().expect("id").to_owned();
    let late = bot.submit(&anouk, &old_form, &[("text", "te laat")]).await;
    assert!(late.is_ephemeral());
    contains(&late.text(), "R1");
    assert!(
        late.text().contains("te laat"),
        "what was typed comes back: {}",
        late.text()
    );
    let stored: Vec<String> = bot
        .store
        .scan_prefix(Tree::Answers, &[])
        .expect("scan")
        .into_iter()
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        .collect();
    assert!(stored.iter().any(|a| a.contains(anouk_text)));
    assert!(stored.iter().all(|a| !a.contains("te laat")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_lesson_is_reviewed_and_found_without_its_author() {
    let bot = set_up().await;
    let author = FakeUser::member(31, "Geheime Gerda");
    let moderator = FakeUser::moderator(2, "Mira");
    let reader = FakeUser::member(5, "Lezer");
    let before = bot.fake.requests().len();

    let id = shared_id(
        &bot,
        &author,
        "Eerst de vraag, dan de tafel",
        "Vraag eerst wat de opgave is voordat je de tafel samenstelt.",
        "anonymous",
    )
    .await;

    let queue = bot.cmd(&moderator, "moderator review queue", &[]).await;
    assert!(queue.text().contains("Eerst de vraag"));
    let approve = queue.button("Goedkeuren").expect("approve button");
    let approved = bot.click(&moderator, &approve).await;
    contains(&approved.text(), &id);

    let found = bot
        .cmd(
            &reader,
            "lesson search",
            &[("text", json!("tafel samenstelt"))],
        )
        .await;
    contains(&found.text(), "Eerst de vraag");
    let shown = bot.cmd(&reader, "lesson show", &[("id", json!(id))]).await;
    assert!(shown.text().contains("Vraag eerst wat de opgave is"));

    // The author hears of the approval, privately.
    let dms = bot.fake.direct_messages(author.id);
    assert_eq!(dms.len(), 1, "one direct message to the author");
    // Nothing else the bot sent names the author.
    for r in &bot.fake.requests()[before..] {
        let to_author = dms.iter().any(|d| d.path == r.path && d.body == r.body);
        if r.path.ends_with("/users/@me/channels") || to_author {
            continue;
        }
        let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        assert!(!body.contains("Gerda"), "{} {}: {body}", r.method, r.path);
        assert!(
            !body.contains(&author.id.to_string()),
            "{} {}: {body}",
            r.method,
            r.path
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_digest_is_published_in_several_valid_messages() {
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let sent = bot
        .fake
        .slash(
            &moderator,
            Some(CHANNEL_ID),
            "moderator digest compose",
            &[("library", json!(true))],
        )
        .await;
    // The preview comes in several messages, its button on the last; on a busy machine the
    // pause between two of them can be longer than the fake's quiet period.
    let preview = bot.reply_with_button(&sent, "ublice").await;
    assert!(
        preview.is_ephemeral(),
        "the preview is for the moderator only"
    );
    let publish = preview.button("ublice").expect("publish button");
    let sent = bot.fake.click(&moderator, Some(CHANNEL_ID), &publish).await;
    let published = bot.reply(&sent).await;
    let files = bot.files(&sent);
    assert!(
        files
            .iter()
            .any(|(name, bytes)| name.ends_with(".png") && bytes.starts_with(b"\x89PNG")),
        "figure 4 travels with the digest as a picture"
    );
    assert!(!published.is_ephemeral());
    assert!(
        !published.followups.is_empty(),
        "a digest over 6,000 characters is split"
    );
    let total: usize = published.text().chars().count();
    assert!(total > 6000, "the digest holds {total} characters");
    for title in [
        "Een rijksambtenaar aan een regionale tafel",
        "Terugkoppelen naar je eigen organisatie",
    ] {
        assert!(published.text().contains(title), "{title} is in the digest");
    }
    let parts = 1 + published.followups.len();
    assert!(published.text().contains(&format!("{parts}/{parts}")));
    for f in &published.followups {
        let body = f.body.as_ref().expect("body");
        assert_eq!(
            body["flags"].as_u64().unwrap_or(0) & 64,
            0,
            "follow-ups are public"
        );
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_data_is_exported_as_json_and_deleted_after_confirmation() {
    let bot = set_up().await;
    let member = FakeUser::member(41, "Femke");
    share(
        &bot,
        &member,
        "Mijn les over rollen",
        "Spreek rollen vroeg af.",
        "named",
    )
    .await;

    let sent = bot
        .fake
        .slash(&member, Some(CHANNEL_ID), "mydata export", &[])
        .await;
    let export = bot.reply(&sent).await;
    assert!(export.is_ephemeral());
    let files = bot.files(&sent);
    let (name, bytes) = files.first().expect("the export is attached");
    assert!(name.ends_with(".json"), "{name}");
    let data: Value = serde_json::from_slice(bytes).expect("valid JSON");
    assert!(data.to_string().contains("Mijn les over rollen"));

    let ask = bot.cmd(&member, "mydata delete", &[]).await;
    let confirm = ask.button("erwijder").expect("a confirmation button");
    let done = bot.click(&member, &confirm).await;
    assert!(done.is_ephemeral());
    let again = bot.cmd(&member, "mydata export", &[]).await;
    assert!(!again.text().contains("Mijn les over rollen"));
    let all = bot.store.scan_prefix(Tree::Lessons, &[]).expect("scan");
    assert!(all
        .iter()
        .all(|(_, v)| !String::from_utf8_lossy(v).contains("Femke")));
    bot.stop().await;
}

/// As `academie serve` runs it: a deletion is confirmed at once, and the member is told by
/// direct message once the files on disk are rewritten; after that message has left, nothing of
/// the member is left in the data folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_is_confirmed_at_once_and_a_direct_message_says_when_the_files_are_clean() {
    let erasing = tempfile::tempdir().expect("tempdir");
    let settings = Settings {
        erasures_dir: Some(erasing.path().join("db.erasing")),
        ..Settings::default()
    };
    let bot = start_full(DEFER_AFTER, Vec::new(), settings, None).await;
    bot.setup().await;
    let member = FakeUser::member(41, "Femke Vrolijk");
    share(
        &bot,
        &member,
        "Mijn les over rollen",
        "Spreek rollen vroeg af.",
        "named",
    )
    .await;

    let ask = bot.cmd(&member, "mydata delete", &[]).await;
    let confirm = ask.button("erwijder").expect("a confirmation button");
    let done = bot.click(&member, &confirm).await;
    assert!(done.is_ephemeral());
    contains(&done.text(), "binnen tien minuten");
    contains(&done.text(), "je krijgt een bericht zodra dat gebeurd is");

    let dms = bot.direct_messages(&member).await;
    assert_eq!(dms.len(), 1, "one direct message to the member");
    let dm = dms[0].body.as_ref().expect("body").to_string();
    contains(
        &dm,
        "Je gegevens zijn nu ook gewist uit de bestanden van de academie",
    );

    // Once the message has left, the store is rewritten again and the request forgotten.
    let db = bot._dir.path().join("db");
    let deadline = tokio::time::Instant::now() + WAIT;
    let forgotten = || {
        std::fs::read_dir(erasing.path().join("db.erasing"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    };
    while !forgotten() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        forgotten(),
        "the request is forgotten once all is rewritten"
    );
    assert!(bot
        .store
        .scan_prefix(Tree::Outbox, &[])
        .expect("scan")
        .is_empty());
    for her in ["Femke Vrolijk", "Mijn les over rollen"] {
        assert!(
            !support::disk::folder_holds(&db, her.as_bytes(), &[]),
            "{her} is still in the database's files"
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_interaction_saves_one_answer() {
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let member = FakeUser::member(3, "Anouk");
    let started = bot
        .cmd(&moderator, "moderator round start", &[("step", json!("1"))])
        .await;
    let form = bot
        .click(&member, &started.button("Antwoord").expect("button"))
        .await;
    let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
    let sent = bot
        .fake
        .modal_payload(&member, Some(CHANNEL_ID), &form_id, &[("text", "Eén keer")]);
    bot.fake.dispatch(&sent).await;
    bot.fake.dispatch(&sent).await;
    let reply = bot.reply(&sent).await;
    assert!(reply.is_ephemeral());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bot.fake.callbacks_for(&sent).len(),
        1,
        "one callback for one interaction"
    );
    assert_eq!(bot.answers(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_with_mentions_never_pings() {
    let bot = set_up().await;
    let author = FakeUser::member(51, "Pieter");
    let moderator = FakeUser::moderator(2, "Mira");
    let pings = "@everyone @here <@&123> <@456>";
    let id = shared_id(&bot, &author, pings, &format!("Let op: {pings}"), "named").await;
    bot.cmd(&moderator, "moderator review approve", &[("id", json!(id))])
        .await;
    let shown = bot
        .cmd(&moderator, "lesson show", &[("id", json!(id))])
        .await;
    contains(&shown.text(), pings);
    let mut checked = 0;
    for r in bot.fake.requests() {
        let Some(body) = &r.body else { continue };
        let message = body.get("data").unwrap_or(body);
        if message.get("embeds").is_some() || message.get("content").is_some() {
            assert_eq!(
                message["allowed_mentions"]["parse"],
                json!([]),
                "{} {}",
                r.method,
                r.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "checked {checked} messages");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_follow_the_users_locale() {
    let bot = start().await;
    let dutch = bot
        .cmd(
            &FakeUser::member(6, "Nel"),
            "questions",
            &[("step", json!("1"))],
        )
        .await;
    contains(&dutch.text(), "Wat is volgens ons het vraagstuk");
    let english = bot
        .cmd(
            &FakeUser::member(7, "Ed").locale("en-US"),
            "questions",
            &[("step", json!("1"))],
        )
        .await;
    assert!(
        english
            .text()
            .contains("What, according to us, is the issue?"),
        "{}",
        english.text()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_outdated_buttons_get_an_explanation() {
    let bot = start().await;
    let member = FakeUser::member(8, "Nina");
    for forged in [
        "1:apr:0",
        "hallo",
        "1:f:shr:9:1:0:0",
        "1:q:0123456789abcdef",
    ] {
        let r = bot.click(&member, forged).await;
        assert!(r.is_ephemeral(), "{forged}");
        assert!(!r.text().is_empty(), "{forged}");
    }
    let outdated = bot.click(&member, "0:ans:1").await;
    contains(&outdated.text(), "oudere versie");
    let en = bot
        .click(&FakeUser::member(9, "Ed").locale("en-GB"), "zzz")
        .await;
    contains(&en.text(), "/help");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_work_is_deferred_and_the_reply_follows() {
    let bot = start_with(Duration::ZERO, Vec::new()).await;
    let r = bot.cmd(&FakeUser::member(6, "Nel"), "orders", &[]).await;
    assert_eq!(r.callback_type, 5, "deferred first");
    contains(&r.text(), "Eerste orde");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_have_no_collaboration() {
    let bot = start().await;
    let member = FakeUser::member(6, "Nel");
    // `/vraag` is offered in a direct message (reading and answering questions work there),
    // but asking one needs the channel of a collaboration. Discord never delivers a command
    // it does not offer in a DM (the fake records that as a violation), so the test asks
    // only what a member could really type there. The question's text is asked in a form,
    // which must not open where it could only be refused once filled in.
    let sent = bot.fake.slash(&member, None, "question ask", &[]).await;
    let r = bot.reply(&sent).await;
    assert!(r.is_ephemeral(), "{r:?}");
    contains(&r.text(), "alleen in het kanaal van een samenwerking");
    let help = bot.fake.slash(&member, None, "help", &[]).await;
    assert!(bot.reply(&help).await.text().contains("/les"));
    // Help with one command: only that one, named as the member's language names it.
    let help = bot
        .fake
        .slash(&member, None, "help", &[("command", json!("lesson share"))])
        .await;
    let r = bot.reply(&help).await;
    assert!(r.is_ephemeral(), "{r:?}");
    contains(&r.text(), "Hulp: /les delen");
    contains(&r.text(), "/les delen titel:…");
    lacks(&r.text(), "/vraag");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serve_binary_is_driven_by_the_fake_and_stops_cleanly_on_sigterm() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "canary-token-5f1e2d";
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_academie"))
        .arg("serve")
        .current_dir(dir.path())
        .env("DISCORD_TOKEN", token)
        .env("ACADEMIE_DISCORD_PROXY", fake.base_url())
        .env("ACADEMIE_DATABASE", dir.path().join("db"))
        .env("RUST_LOG", "academie=debug,info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    fake.wait_ready(WAIT).await.expect("the binary connected");
    assert_eq!(
        fake.identify_token().as_deref(),
        Some(&*format!("Bot {token}"))
    );
    let intents = fake.identify_intents().expect("intents");
    // Privileged intents: GUILD_MEMBERS (1<<1), GUILD_PRESENCES (1<<8), MESSAGE_CONTENT (1<<15).
    assert_eq!(
        intents & ((1 << 1) | (1 << 8) | (1 << 15)),
        0,
        "intents {intents}"
    );
    fake.wait_commands(WAIT).await.expect("registration");
    let sent = fake
        .slash(&FakeUser::member(6, "Nel"), Some(CHANNEL_ID), "help", &[])
        .await;
    let help = fake.response(&sent, WAIT).await.expect("a reply");
    contains(&help.text(), "/ronde");

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the bot stopped within the timeout")
        .expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    contains(&stderr, "stopped");
    assert!(!stderr.contains(token), "the token leaked into the log");
    fake.assert_clean();
}

#[test]
fn serve_without_a_token_says_how_to_get_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_academie"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .env("ACADEMIE_DATABASE", dir.path().join("db"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    contains(&stderr, "DISCORD_TOKEN");
    contains(&stderr, "academie console");
    contains(&stderr, "discord.com/developers");
    assert!(!dir.path().join("db").exists(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_can_be_registered_per_server() {
    let bot = start_with(DEFER_AFTER, vec![GUILD_ID]).await;
    let (path, body) = bot.fake.wait_commands(WAIT).await.expect("registration");
    assert_eq!(
        path,
        format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    );
    assert!(body.as_array().is_some_and(|c| c.len() >= 10));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_buttons_reject_with_a_reason_and_edit_in_a_prefilled_form() {
    let bot = set_up().await;
    let author = FakeUser::member(61, "Auteur");
    let moderator = FakeUser::moderator(2, "Mira");
    let id = shared_id(
        &bot,
        &author,
        "Een vage les",
        "Samenwerken is belangrijk.",
        "named",
    )
    .await;
    let queue = bot.cmd(&moderator, "moderator review queue", &[]).await;

    // A member who gets hold of the approve button is refused, and nothing changes.
    let approve = queue.button("goedkeuren").expect("approve button");
    let refused = bot.click(&author, &approve).await;
    assert!(refused.is_ephemeral());
    contains(&refused.text(), "moderator");
    let still = bot.cmd(&moderator, "moderator review queue", &[]).await;
    assert!(still.text().contains("Een vage les"));

    // Editing opens the lesson's own text.
    let edit = bot
        .click(&moderator, &queue.button("bewerken").expect("edit button"))
        .await;
    assert_eq!(edit.callback_type, 9);
    contains(&edit.text(), "Samenwerken is belangrijk.");

    // Rejecting asks for a reason, which the author receives.
    let reject = bot
        .click(
            &moderator,
            &queue.button("afwijzen").expect("reject button"),
        )
        .await;
    assert_eq!(reject.callback_type, 9, "rejecting asks for a reason");
    let form = reject.callback["custom_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reason = "Te algemeen: beschrijf wat er aan tafel gebeurde.";
    let done = bot.submit(&moderator, &form, &[("reason", reason)]).await;
    contains(&done.text(), &id);
    let dms = bot.fake.direct_messages(author.id);
    assert_eq!(dms.len(), 1);
    let dm = dms[0].body.as_ref().expect("body").to_string();
    contains(&dm, reason);
    let empty = bot.cmd(&moderator, "moderator review queue", &[]).await;
    assert!(!empty.text().contains("Een vage les"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_page_with_buttons_even_for_long_searches() {
    let bot = start().await;
    let reader = FakeUser::member(5, "Lezer");
    let first = bot.cmd(&reader, "lesson search", &[]).await;
    contains(&first.text(), "pagina 1 van 4");
    let second = bot
        .click(&reader, &first.button("Volgende").expect("next button"))
        .await;
    contains(&second.text(), "pagina 2 van 4");
    assert!(second.button("Vorige").is_some());

    // A search too long to fit in a button still pages (it is kept in the store).
    let long = "de ".repeat(60);
    let found = bot
        .cmd(&reader, "lesson search", &[("text", json!(long.trim()))])
        .await;
    let next = found
        .button("Volgende")
        .expect("next button on a long search");
    assert!(next.starts_with("1:q:"), "{next}");
    let page2 = bot.click(&reader, &next).await;
    contains(&page2.text(), "pagina 2 van");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_close_button_never_closes_a_newer_round() {
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let member = FakeUser::member(3, "Anouk");
    bot.cmd(&moderator, "moderator round start", &[("step", json!("1"))])
        .await;
    let revealed = bot.cmd(&moderator, "moderator round reveal", &[]).await;
    let old_close = revealed
        .button("sluiten")
        .expect("a close button on the reveal");
    bot.cmd(&moderator, "moderator round close", &[]).await;
    let second = bot
        .cmd(&moderator, "moderator round start", &[("step", json!("2"))])
        .await;
    let form = bot
        .click(&member, &second.button("Antwoord").expect("answer button"))
        .await;
    let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
    let secret = "Een antwoord dat nog niemand mag zien.";
    bot.submit(&member, &form_id, &[("text", secret)]).await;

    let stale = bot.click(&moderator, &old_close).await;
    assert!(stale.is_ephemeral());
    contains(&stale.text(), "R1");
    assert!(!stale.text().contains(secret));
    let status = bot.cmd(&member, "round status", &[]).await;
    contains(&status.text(), "R2");
    let shown_publicly = bot
        .fake
        .requests()
        .iter()
        .filter_map(|r| r.body.clone())
        .any(|b| {
            let message = b.get("data").cloned().unwrap_or_else(|| b.clone());
            let ephemeral = message["flags"].as_u64().unwrap_or(0) & 64 != 0;
            !ephemeral && message.to_string().contains(secret)
        });
    assert!(
        !shown_publicly,
        "the open round's answer was never shown publicly"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_a_public_deferral_stays_private() {
    let bot = start_with(Duration::ZERO, Vec::new()).await;
    bot.setup().await;
    let member = FakeUser::member(3, "Anouk");
    // An administrator opened /moderator to everyone; the academy refuses the member itself.
    bot.fake.allow_role("moderator", GUILD_ID);
    let sent = bot
        .fake
        .slash(
            &member,
            Some(CHANNEL_ID),
            "moderator round start",
            &[("step", json!("1"))],
        )
        .await;
    let r = bot.reply(&sent).await;
    assert_eq!(r.callback_type, 5);
    assert!(
        bot.fake
            .requests()
            .iter()
            .any(|q| q.method == "DELETE" && q.path.contains(&sent.token)),
        "the public 'thinking' message is removed"
    );
    let last = r.followups.last().expect("a follow-up");
    let body = last.body.as_ref().expect("body");
    assert_eq!(
        body["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "the refusal is ephemeral"
    );
    contains(&r.text(), "moderator");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_steps_and_a_conflicting_edit_lose_nothing() {
    let bot = set_up().await;
    let author = FakeUser::member(71, "Auteur");
    let moderator = FakeUser::moderator(2, "Mira");
    let open = bot
        .cmd(
            &author,
            "lesson share",
            &[("order", json!("first")), ("steps", json!("1,1,2,3,4,5"))],
        )
        .await;
    let form = open.callback["custom_id"]
        .as_str()
        .expect("form")
        .to_owned();
    let shared = bot
        .submit(
            &author,
            &form,
            &[
                ("title", "Alle stappen"),
                ("happened", "We liepen alle vijf de vragen door."),
                ("lesson", "Begin bij de eerste vraag."),
                ("tags", ""),
            ],
        )
        .await;
    assert!(shared.text().contains('L'), "{}", shared.text());
    let id = lesson_id(&shared.text());

    // The moderator opens the edit form, then the author edits first.
    let queue = bot.cmd(&moderator, "moderator review queue", &[]).await;
    let mod_form = bot
        .click(&moderator, &queue.button("bewerken").expect("edit button"))
        .await;
    let mod_form_id = mod_form.callback["custom_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let own = bot.cmd(&author, "lesson edit", &[("id", json!(id))]).await;
    let own_id = own.callback["custom_id"].as_str().expect("id").to_owned();
    bot.submit(
        &author,
        &own_id,
        &[
            ("title", "Alle stappen, herzien"),
            ("happened", "We liepen alle vijf de vragen door."),
            ("lesson", "Begin bij de eerste vraag."),
            ("tags", ""),
        ],
    )
    .await;
    let typed = "Een versie van de moderator die de auteur zou overschrijven.";
    let conflict = bot
        .submit(
            &moderator,
            &mod_form_id,
            &[
                ("title", "Alle stappen"),
                ("happened", typed),
                ("lesson", "Begin bij de eerste vraag."),
                ("tags", ""),
            ],
        )
        .await;
    contains(&conflict.text(), "intussen");
    assert!(
        conflict.text().contains(typed),
        "the moderator's text comes back"
    );
    let shown = bot.cmd(&author, "lesson show", &[("id", json!(id))]).await;
    contains(&shown.text(), "herzien");
    assert!(!shown.text().contains(typed));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_perspectives_come_with_figure_four_as_a_picture() {
    let bot = start().await;
    let sent = bot
        .fake
        .slash(
            &FakeUser::member(6, "Nel"),
            Some(CHANNEL_ID),
            "perspectives",
            &[],
        )
        .await;
    let reply = bot.reply(&sent).await;
    contains(&reply.text(), "Netwerkende overheid");
    let files = bot.files(&sent);
    let (name, png) = files.first().expect("a picture is attached");
    assert_eq!(name, "perspectieven.png", "named in the member's language");
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(png).expect("a PNG");
    assert_eq!(pixmap.width(), 1200);
    bot.stop().await;
}

impl Bot {
    fn advance(&self, by: chrono::Duration) {
        let mut now = self.clock.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Waits until `count` messages were posted to the channel.
    async fn channel_posts(&self, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let posts: Vec<String> = self
                .fake
                .channel_messages(CHANNEL_ID)
                .into_iter()
                .map(|r| r.body.map(|b| b.to_string()).unwrap_or_default())
                .collect();
            if posts.len() >= count || tokio::time::Instant::now() > deadline {
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until a direct message was sent to `user` (or the wait is over), then all sent.
    async fn direct_messages(&self, user: &FakeUser) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.fake.direct_messages(user.id).is_empty()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.fake.direct_messages(user.id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_the_deadline_reveal_arrive_on_their_own() {
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let anna = FakeUser::member(3, "Anouk");
    let bram = FakeUser::member(4, "Bram");
    let carla = FakeUser::member(5, "Carla");
    bot.cmd(&bram, "reminders", &[("via", json!("dm"))]).await;
    let carla_says = bot
        .cmd(&carla, "reminders", &[("via", json!("channel"))])
        .await;
    contains(&carla_says.text(), "kanaal");
    let started = bot
        .cmd(
            &moderator,
            "moderator round start",
            &[("step", json!("1")), ("deadline", json!("3d"))],
        )
        .await;
    let form = bot
        .click(&anna, &started.button("Antwoord").expect("button"))
        .await;
    let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
    let text = "Het vraagstuk is netcongestie in de regio.";
    bot.submit(&anna, &form_id, &[("text", text)]).await;
    // A few ticks pass: nothing is due yet, nothing is posted.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(bot.fake.channel_messages(CHANNEL_ID).is_empty());

    bot.advance(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    let posts = bot.channel_posts(1).await;
    assert_eq!(posts.len(), 1, "one reminder in the channel");
    assert!(
        posts[0].contains("Herinnering") && posts[0].contains("Carla"),
        "{}",
        posts[0]
    );
    assert!(!posts[0].contains("Anouk"), "who answered is not reminded");
    let dms = bot.direct_messages(&bram).await;
    assert_eq!(dms.len(), 1, "Bram is reminded by direct message");
    assert!(bot.fake.direct_messages(anna.id).is_empty());

    bot.advance(chrono::Duration::days(1));
    let posts = bot.channel_posts(2).await;
    assert_eq!(posts.len(), 2, "the round revealed itself");
    assert!(posts[1].contains(text), "{}", posts[1]);
    assert!(posts[1].contains("deadline is verstreken"), "{}", posts[1]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_says_they_applied_a_lesson_through_its_button() {
    let bot = start().await;
    let reader = FakeUser::member(5, "Lezer");
    let shown = bot
        .cmd(&reader, "lesson show", &[("id", json!("L1"))])
        .await;
    let button = shown.button("toegepast").expect("an applied button");
    let form = bot.click(&reader, &button).await;
    assert_eq!(form.callback_type, 9, "a form for the note");
    let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
    let saved = bot
        .submit(
            &reader,
            &form_id,
            &[("note", "Gebruikt bij de regiotafel.")],
        )
        .await;
    contains(&saved.text(), "1×");
    let again = bot
        .cmd(&reader, "lesson show", &[("id", json!("L1"))])
        .await;
    contains(&again.text(), "1× toegepast");
    bot.stop().await;
}

/// The hostile-input corpus (`tests/hostile/cases.toml`), as far as these tests read it.
#[derive(serde::Deserialize)]
struct HostileCorpus {
    case: Vec<HostileCase>,
}

#[derive(serde::Deserialize)]
struct HostileCase {
    name: String,
    line: String,
    #[serde(rename = "where")]
    place: String,
    who: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_goes_through_discord_forms_without_a_ping_or_a_rejected_request() {
    let corpus: HostileCorpus = toml::from_str(include_str!("hostile/cases.toml")).expect("corpus");
    let catalog = Catalog::embedded().expect("catalog");
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let member = FakeUser::member(3, "Anouk");
    let started = bot
        .cmd(&moderator, "moderator round start", &[("step", json!("1"))])
        .await;
    let answer = started.button("Antwoord").expect("answer button");
    let mut ran = 0;
    for case in corpus
        .case
        .iter()
        .filter(|c| c.place == "channel" && c.who == "member")
    {
        let Ok((spec, values)) = academie::commands::parse_line(&catalog, Lang::Nl, &case.line)
        else {
            continue;
        };
        // What a Discord form can carry: up to its length, and something in every required field.
        let fits = |v: &str| v.chars().count() <= 2000 && !v.trim().is_empty();
        let reply = match spec.id().as_str() {
            "answer submit" => {
                let Some(text) = values.text("text").filter(|t| fits(t)) else {
                    continue;
                };
                let form = bot.click(&member, &answer).await;
                let id = form.callback["custom_id"]
                    .as_str()
                    .expect("form")
                    .to_owned();
                bot.submit(&member, &id, &[("text", text)]).await
            }
            "lesson share" => {
                let field = |n: &str| values.text(n).unwrap_or_default().to_owned();
                let (title, happened, lesson) =
                    (field("title"), field("happened"), field("lesson"));
                if !(fits(&title)
                    && title.chars().count() <= 120
                    && fits(&happened)
                    && fits(&lesson))
                {
                    continue;
                }
                let open = bot
                    .cmd(&member, "lesson share", &[("order", json!("first"))])
                    .await;
                let id = open.callback["custom_id"]
                    .as_str()
                    .expect("form")
                    .to_owned();
                let tags = field("tags");
                bot.submit(
                    &member,
                    &id,
                    &[
                        ("title", title.as_str()),
                        ("happened", happened.as_str()),
                        ("lesson", lesson.as_str()),
                        ("tags", tags.as_str()),
                    ],
                )
                .await
            }
            _ => continue,
        };
        assert!(reply.is_ephemeral(), "{}", case.name);
        assert!(
            !reply.text().trim().is_empty(),
            "{}: an answer arrived",
            case.name
        );
        ran += 1;
    }
    assert!(ran >= 60, "ran {ran} cases through Discord");
    // Every request the bot sent passed Discord's spec and the no-ping rule.
    bot.stop().await;
}

/// A registered command by its path (`"moderator digest compose"`), and the options of that
/// (sub)command, down through any subcommand group.
fn registered(commands: &[Value], path: &str) -> (Value, Vec<Value>) {
    let mut words = path.split(' ');
    let top = words.next().unwrap_or_default();
    let command = commands
        .iter()
        .find(|c| c["name"] == top)
        .unwrap_or_else(|| panic!("/{top} is registered"))
        .clone();
    let mut options = command["options"].as_array().cloned().unwrap_or_default();
    for sub in words {
        options = options
            .iter()
            .find(|o| o["name"] == sub)
            .and_then(|o| o["options"].as_array().cloned())
            .unwrap_or_default();
    }
    (command, options)
}

/// What a Discord client would send for one option typed in a hostile case, or `None` when
/// Discord itself would never send it (not one of the choices, not a number, too long).
fn option_value(kind: academie::commands::Kind, raw: &str) -> Option<Value> {
    use academie::commands::Kind as K;
    use academie::domain::{Attribution, Order, Perspective, Reminders, Step};
    let raw = raw.trim();
    let choice = |key: Option<&'static str>| key.map(|k| json!(k));
    match kind {
        K::Step => choice(Step::parse_user(raw).map(Step::key)),
        K::Order => choice(Order::parse_user(raw).map(Order::key)),
        K::Perspective => choice(Perspective::parse_user(raw).map(Perspective::key)),
        K::Attribution => choice(Attribution::parse_user(raw).map(Attribution::key)),
        K::Reminders => choice(Reminders::parse_user(raw).map(Reminders::key)),
        K::Lang => choice(Lang::parse_user(raw).map(Lang::key)),
        K::Layer | K::Amount => None,
        K::Yes => matches!(raw, "ja" | "yes" | "true").then(|| json!(true)),
        K::Page => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .map(|n| json!(n)),
        // The number of an answer, or a meeting's minutes.
        K::Number => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .map(|n| json!(n)),
        K::Weeks => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=52).contains(n))
            .map(|n| json!(n)),
        // Discord refuses an empty string option and anything over 6,000 characters.
        _ => (!raw.is_empty() && raw.chars().count() <= 6000).then(|| json!(raw)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_goes_through_slash_commands_by_anyone_anywhere_without_a_ping() {
    const ELSEWHERE: u64 = CHANNEL_ID + 7;
    let corpus: HostileCorpus = toml::from_str(include_str!("hostile/cases.toml")).expect("corpus");
    let catalog = Catalog::embedded().expect("catalog");
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    bot.cmd(&moderator, "moderator round start", &[("step", json!("1"))])
        .await;
    let registered_list: Vec<Value> = bot
        .fake
        .registered_commands()
        .into_iter()
        .flat_map(|(_, body)| body.as_array().cloned().unwrap_or_default())
        .collect();
    let mut ran = 0;
    let mut places = std::collections::BTreeSet::new();
    for case in &corpus.case {
        let Ok((spec, values)) = academie::commands::parse_line(&catalog, Lang::Nl, &case.line)
        else {
            continue;
        };
        // Commands with long texts open a form instead; the forms test sends those.
        if spec
            .options
            .iter()
            .any(|o| o.kind == academie::commands::Kind::Text)
        {
            continue;
        }
        let mut options = Vec::new();
        let mut sendable = true;
        for opt in spec.options {
            match values.text(opt.name) {
                Some(raw) => match option_value(opt.kind, raw) {
                    Some(v) => options.push((opt.name, v)),
                    None => sendable = false,
                },
                None if opt.required => sendable = false,
                None => {}
            }
        }
        let user = match case.who.as_str() {
            "admin" => FakeUser::admin(1, "Beheerder"),
            "moderator" => FakeUser::moderator(2, "Mira"),
            _ => FakeUser::member(3, "Anouk <@&123> @everyone"),
        };
        // As registered: Discord enforces each option's length and hides a command from whoever
        // lacks its default permissions.
        let (command, schema) = registered(&registered_list, &spec.id());
        let required: u64 = command["default_member_permissions"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let allowed =
            user.permissions & ADMINISTRATOR != 0 || user.permissions & required == required;
        let fits = options.iter().all(|(name, v)| {
            let max = schema
                .iter()
                .find(|o| o["name"] == *name)
                .and_then(|o| o["max_length"].as_u64())
                .unwrap_or(6000) as usize;
            v.as_str().is_none_or(|t| t.chars().count() <= max)
        });
        let channel = match case.place.as_str() {
            "dm" => None,
            "unconfigured" => Some(ELSEWHERE),
            _ => Some(CHANNEL_ID),
        };
        // Discord offers in a direct message only the commands whose contexts include it.
        let offered_here = channel.is_some()
            || command["contexts"]
                .as_array()
                .is_some_and(|c| c.contains(&json!(1)));
        if !(sendable && allowed && fits && offered_here) {
            continue;
        }
        let sent = bot.fake.slash(&user, channel, &spec.id(), &options).await;
        let reply = bot.reply(&sent).await;
        assert!(
            !reply.text().trim().is_empty(),
            "{}: an answer arrived",
            case.name
        );
        places.insert(case.place.clone());
        ran += 1;
    }
    eprintln!("{ran} hostile cases sent as slash commands");
    assert!(ran >= 40, "ran {ran} cases through slash commands");
    assert_eq!(
        places.len(),
        3,
        "cases from a configured channel, another channel and a DM: {places:?}"
    );
    // Every request the bot sent passed Discord's spec and the no-ping rule.
    bot.stop().await;
}

/// `academie serve` as a child process against `fake`, with `token` and the log at `log`.
fn serve_binary(
    fake: &FakeDiscord,
    dir: &std::path::Path,
    token: &str,
    log: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_academie"))
        .arg("serve")
        .current_dir(dir)
        .env("DISCORD_TOKEN", token)
        .env("ACADEMIE_DISCORD_PROXY", fake.base_url())
        .env("ACADEMIE_DATABASE", dir.join("db"))
        .env("ACADEMIE_EXPORT_DIR", dir.join("export"))
        .env_remove("ACADEMIE_CONFIG")
        .env("RUST_LOG", log)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

/// Waits for the child to end by itself; fails if it runs past `within`.
async fn ended(
    child: tokio::process::Child,
    within: Duration,
) -> (std::process::ExitStatus, String) {
    let out = tokio::time::timeout(within, child.wait_with_output())
        .await
        .expect("serve ended by itself in time")
        .expect("output");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_ends_serve_with_one_sentence_and_nothing_goes_elsewhere() {
    let fake = FakeDiscord::start().await;
    fake.revoke_token();
    let dir = tempfile::tempdir().expect("tempdir");
    let child = serve_binary(&fake, dir.path(), "revoked-token-3c9a", "warn");
    let (status, stderr) = ended(child, Duration::from_secs(10)).await;
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("Discord weigert het token: maak op")
            && stderr.contains("Discord rejected the token: create a new one"),
        "{stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        2,
        "one sentence per language: {stderr}"
    );
    lacks(&stderr, "revoked-token-3c9a");
    // The first request was refused and nothing else was tried: no retries, no other address.
    let asked: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(asked, ["GET /api/v10/gateway"], "{asked:?}");
    lacks(&stderr, "gateway.discord.gg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_gateway_refuses_ends_serve_with_the_same_sentence() {
    let fake = FakeDiscord::start().await;
    fake.refuse_identify();
    let dir = tempfile::tempdir().expect("tempdir");
    let child = serve_binary(&fake, dir.path(), "refused-token-81d2", "warn");
    let (status, stderr) = ended(child, Duration::from_secs(15)).await;
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("Discord weigert het token")
            && stderr.contains("Discord rejected the token"),
        "{stderr}"
    );
    lacks(&stderr, "refused-token-81d2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_address_that_fails_at_first_is_asked_again_of_the_configured_base() {
    let fake = FakeDiscord::start().await;
    // serenity alone would dial wss://gateway.discord.gg after one failure, and never the fake.
    fake.fail_next("GET", "/api/v10/gateway", 2, Fault::ServerError);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("store"));
    let engine = Arc::new(academy::engine(
        store,
        Arc::new(academie::engine::SystemClock),
        Settings::default(),
    ));
    let options = academy::serve_options(fake.base_url());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(engine, options, async move {
        let _ = rx.await;
    }));
    fake.wait_ready(Duration::from_secs(20))
        .await
        .expect("the bot connected to the fake's gateway");
    assert_eq!(fake.faults_pending(), 0);
    let _ = tx.send(());
    tokio::time::timeout(WAIT, task)
        .await
        .expect("serve stopped in time")
        .expect("serve task")
        .expect("serve ended cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_interaction_token_or_answer_reaches_the_log_even_at_trace() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "MTAxNjQ3canary.bot-token.Zq9";
    let mut child = serve_binary(&fake, dir.path(), token, "trace");
    // Read as it comes: a trace log fills a pipe nobody reads, and the bot would stop.
    let mut pipe = child.stderr.take().expect("stderr");
    let log = tokio::spawn(async move {
        let mut text = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut text)
            .await
            .expect("read the log");
        String::from_utf8_lossy(&text).into_owned()
    });
    fake.wait_ready(WAIT).await.expect("the binary connected");
    fake.wait_commands(WAIT).await.expect("registration");
    let admin = FakeUser::admin(1, "Beheerder");
    let member = FakeUser::member(6, "Nel");
    let mut sent = Vec::new();
    let setup = fake
        .slash(
            &admin,
            Some(CHANNEL_ID),
            "setup",
            &[
                ("task", json!("Klimaatadaptatie in de Delta")),
                ("region", json!("Zuidwest-Delta")),
                ("layers", json!("gemeente, provincie")),
            ],
        )
        .await;
    fake.response(&setup, WAIT).await.expect("setup answered");
    sent.push(setup);
    let start = fake
        .slash(
            &admin,
            Some(CHANNEL_ID),
            "moderator round start",
            &[("step", json!("1"))],
        )
        .await;
    let started = fake.response(&start, WAIT).await.expect("round started");
    sent.push(start);
    let button = started.button("Antwoord").expect("an answer button");
    let click = fake.click(&member, Some(CHANNEL_ID), &button).await;
    let form = fake.response(&click, WAIT).await.expect("a form");
    sent.push(click);
    let form_id = form.callback["custom_id"].as_str().expect("id").to_owned();
    let canary = "Kanarie-antwoord-5e0b: het vraagstuk is blind";
    let submit = fake
        .submit(&member, Some(CHANNEL_ID), &form_id, &[("text", canary)])
        .await;
    fake.response(&submit, WAIT)
        .await
        .expect("the answer was saved");
    sent.push(submit);

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let (status, _) = ended(child, WAIT).await;
    let stderr = log.await.expect("the log");
    assert!(status.success(), "exit {status:?}");
    // The log was on: the academy's own lines are there, at every level asked.
    contains(&stderr, "registered the slash commands");
    let mut leaks: Vec<String> = Vec::new();
    let secrets = [
        ("the bot token", token),
        ("part of the bot token", "MTAxNjQ3canary"),
    ]
    .into_iter()
    .chain(
        sent.iter()
            .map(|s| ("an interaction token", s.token.as_str())),
    )
    .chain([("a blind answer", "Kanarie-antwoord")]);
    for (what, secret) in secrets {
        let lines = stderr.lines().filter(|l| l.contains(secret)).count();
        if lines > 0 {
            leaks.push(format!("{what} ({secret}) on {lines} lines"));
        }
    }
    assert!(leaks.is_empty(), "in the log: {leaks:#?}");
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_set_up_from_an_english_client_speaks_english() {
    let bot = start().await;
    let admin = FakeUser::admin(1, "Erin").locale("en-US");
    let r = bot
        .cmd(
            &admin,
            "setup",
            &[
                ("task", json!("Energy North")),
                ("region", json!("Groningen")),
                ("layers", json!("province")),
            ],
        )
        .await;
    contains(&r.text(), "Channel language: English.");
    let round = bot
        .cmd(&admin, "moderator round start", &[("step", json!("1"))])
        .await;
    contains(&round.text(), "Step 1");
    assert!(round.button("Answer").is_some(), "{:?}", round.callback);
    assert!(round.button("Beantwoorden").is_none());
    // A Dutch member is told, in Dutch, that the channel speaks English.
    let shown = bot
        .cmd(&FakeUser::member(2, "Anna"), "collaboration", &[])
        .await;
    contains(&shown.text(), "Taal van het kanaal: Engels");
    bot.stop().await;
}

/// The registered top-level command named `name`.
fn top_level<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("/{name} is registered"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_shows_each_command_only_where_and_to_whom_it_works() {
    use academie::commands::{Audience, SPECS};
    let bot = start().await;
    let (_, body) = bot.fake.wait_commands(WAIT).await.expect("registration");
    let list = body.as_array().expect("an array of commands").clone();
    for c in &list {
        let contexts = c["contexts"]
            .as_array()
            .unwrap_or_else(|| panic!("/{} declares where it works (contexts)", c["name"]));
        assert!(
            contexts.contains(&json!(0)),
            "/{} works in servers",
            c["name"]
        );
        assert_eq!(
            c["integration_types"],
            json!([0]),
            "/{}: the bot is installed in servers",
            c["name"]
        );
    }
    // Setting up a channel, and every moderator action, only in a server.
    assert_eq!(top_level(&list, "setup")["contexts"], json!([0]));
    // Reading lessons and help work in a direct message with the bot too.
    assert!(top_level(&list, "help")["contexts"]
        .as_array()
        .unwrap()
        .contains(&json!(1)));
    // Every moderator action sits under a top-level command that Discord hides from members;
    // no member-facing command carries one.
    for spec in SPECS.iter().filter(|s| s.audience == Audience::Moderators) {
        let top = top_level(&list, spec.path[0].0);
        assert!(
            top["default_member_permissions"].is_string()
                || top["default_member_permissions"].is_number(),
            "/{} ({}) is hidden from members by its top-level command",
            spec.id(),
            top["name"]
        );
        assert_eq!(
            top["contexts"],
            json!([0]),
            "/{} only in a server",
            spec.id()
        );
    }
    for spec in SPECS.iter().filter(|s| s.audience == Audience::Members) {
        let top = top_level(&list, spec.path[0].0);
        assert!(
            top["default_member_permissions"].is_null(),
            "/{} is offered to every member",
            spec.id()
        );
    }
    bot.stop().await;
}

// ---- the academy across collaborations: two servers, one collaboration each ----

impl Bot {
    async fn cmd_in(
        &self,
        user: &FakeUser,
        channel: u64,
        command: &str,
        options: &[(&str, Value)],
    ) -> Response {
        let sent = self.fake.slash(user, Some(channel), command, options).await;
        self.reply(&sent).await
    }

    async fn click_in(&self, user: &FakeUser, channel: Option<u64>, custom_id: &str) -> Response {
        let sent = self.fake.click(user, channel, custom_id).await;
        self.reply(&sent).await
    }

    async fn submit_in(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let sent = self.fake.submit(user, channel, custom_id, fields).await;
        self.reply(&sent).await
    }

    /// Sets up the second server's channel as a collaboration.
    async fn setup_b(&self) {
        let admin = FakeUser::admin(11, "Beheerder B");
        let r = self
            .cmd_in(
                &admin,
                CHANNEL_B_ID,
                "setup",
                &[
                    ("task", json!("Woningbouw in Twente")),
                    ("region", json!("Twente")),
                    ("layers", json!("gemeente, provincie")),
                ],
            )
            .await;
        contains(&r.text(), "Woningbouw in Twente");
    }

    /// A moderator of each server allows exchange with other servers.
    async fn open_both(&self) {
        for (user, channel) in [
            (FakeUser::moderator(2, "Mira"), CHANNEL_ID),
            (FakeUser::moderator(12, "Sem"), CHANNEL_B_ID),
        ] {
            let r = self
                .cmd_in(
                    &user,
                    channel,
                    "moderator exchange",
                    &[("servers", json!(true))],
                )
                .await;
            assert!(r.is_ephemeral());
            contains(&r.text(), "toegestaan");
        }
    }

    /// A shared lesson in the first server, approved by its moderator; returns its id.
    async fn approved_lesson(&self, title: &str, lesson: &str) -> String {
        let id = shared_id(
            self,
            &FakeUser::member(31, "Anouk Aarts"),
            title,
            lesson,
            "named",
        )
        .await;
        let moderator = FakeUser::moderator(2, "Mira");
        let approved = self
            .cmd(&moderator, "moderator review approve", &[("id", json!(id))])
            .await;
        contains(&approved.text(), &id);
        id
    }
}

/// Waits until `check` holds of what the fake recorded.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not happen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The visible text of a message the bot posted.
fn message_text(m: &Value) -> String {
    m.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_of_one_server_is_found_from_the_other_only_when_both_allow_it() {
    let bot = set_up().await;
    bot.setup_b().await;
    let id = bot
        .approved_lesson(
            "Waterberging met de boeren",
            "Maak de boeren mede-eigenaar van de waterberging.",
        )
        .await;
    let reader = FakeUser::member(41, "Ruben");
    let options = [("text", json!("waterberging"))];
    let search = || bot.cmd_in(&reader, CHANNEL_B_ID, "lesson search", &options);
    assert!(!search().await.text().contains("Waterberging met de boeren"));
    let shown = bot
        .cmd_in(&reader, CHANNEL_B_ID, "lesson show", &[("id", json!(id))])
        .await;
    contains(&shown.text(), "Er is geen les");

    // One server allowing is not enough; both is.
    let r = bot
        .cmd_in(
            &FakeUser::moderator(2, "Mira"),
            CHANNEL_ID,
            "moderator exchange",
            &[("servers", json!(true))],
        )
        .await;
    contains(&r.text(), "toegestaan");
    assert!(!search().await.text().contains("Waterberging met de boeren"));
    bot.cmd_in(
        &FakeUser::moderator(12, "Sem"),
        CHANNEL_B_ID,
        "moderator exchange",
        &[("servers", json!(true))],
    )
    .await;
    let found = search().await;
    contains(&found.text(), "Waterberging met de boeren");
    contains(&found.text(), "Uit: Klimaatadaptatie in de Delta");
    // A moderator of the other server cannot review the first server's lessons.
    let pending = share(
        &bot,
        &FakeUser::member(32, "Bas"),
        "Nog niet beoordeeld",
        "Iets.",
        "named",
    )
    .await;
    let pending = lesson_id(&pending.text());
    let refused = bot
        .cmd_in(
            &FakeUser::moderator(12, "Sem"),
            CHANNEL_B_ID,
            "moderator review approve",
            &[("id", json!(pending))],
        )
        .await;
    contains(&refused.text(), "Er is geen les");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_start_shows_the_most_applied_lesson_of_another_server() {
    let bot = set_up().await;
    bot.setup_b().await;
    bot.open_both().await;
    let applied = bot
        .approved_lesson(
            "Eerst de opgave samen benoemen",
            "Schrijf het vraagstuk samen op.",
        )
        .await;
    let other = bot
        .approved_lesson("Een les die niemand toepaste", "Nog niet toegepast.")
        .await;
    for (id, name) in [(41, "Tom"), (42, "Tess")] {
        let user = FakeUser::member(id, name);
        let form = bot
            .cmd(&user, "lesson applied", &[("id", json!(applied))])
            .await;
        assert_eq!(form.callback_type, 9, "applying asks for a note in a form");
        let form_id = form.callback["custom_id"]
            .as_str()
            .expect("form")
            .to_owned();
        let saved = bot
            .submit(&user, &form_id, &[("note", "Gebruikt aan onze tafel.")])
            .await;
        contains(&saved.text(), "toegepast");
    }
    let started = bot
        .cmd_in(
            &FakeUser::moderator(12, "Sem"),
            CHANNEL_B_ID,
            "moderator round start",
            &[("step", json!("1"))],
        )
        .await;
    let text = started.text();
    assert!(!started.is_ephemeral());
    contains(&text, "Wat anderen leerden bij Stap 1");
    let first = text
        .find("Eerst de opgave samen benoemen")
        .expect("the most applied lesson");
    let second = text
        .find("Een les die niemand toepaste")
        .expect("the other one");
    assert!(first < second, "most applied first: {text}");
    contains(&text, "2× toegepast");
    let read = started
        .button(&format!("{applied} lezen"))
        .expect("a button to read it");
    let shown = bot
        .click_in(&FakeUser::member(43, "Lisa"), Some(CHANNEL_B_ID), &read)
        .await;
    assert!(shown.is_ephemeral());
    contains(&shown.text(), "Schrijf het vraagstuk samen op.");
    let _ = other;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_asked_in_one_server_is_answered_in_the_other() {
    let bot = set_up().await;
    bot.setup_b().await;
    bot.open_both().await;
    let asker = FakeUser::member(51, "Vera Vragensteller");
    let form = bot.cmd(&asker, "question ask", &[]).await;
    assert_eq!(form.callback_type, 9, "a question is typed in a form");
    let form_id = form.callback["custom_id"]
        .as_str()
        .expect("form")
        .to_owned();
    let question = "Hoe houden jullie de gemeenteraad betrokken bij een regiodeal?";
    let asked = bot.submit(&asker, &form_id, &[("text", question)]).await;
    assert!(
        !asked.is_ephemeral(),
        "the question is posted in the channel"
    );
    contains(&asked.text(), question);

    // It arrives in the other server's collaboration, with a button to answer.
    eventually("the question arrives in the other server", || {
        bot.fake
            .posted(CHANNEL_B_ID)
            .iter()
            .any(|m| message_text(m).contains("gemeenteraad betrokken"))
    })
    .await;
    let post = bot
        .fake
        .posted(CHANNEL_B_ID)
        .into_iter()
        .find(|m| message_text(m).contains("gemeenteraad betrokken"))
        .expect("posted");
    assert!(message_text(&post).contains("Klimaatadaptatie in de Delta"));
    let mut ids = Vec::new();
    collect_ids(&post["components"], &mut ids);
    let answer = ids
        .into_iter()
        .find(|id| id.starts_with("1:qan:"))
        .expect("an answer button");
    let answerer = FakeUser::member(52, "Aart Antwoorder");
    let form = bot.click_in(&answerer, Some(CHANNEL_B_ID), &answer).await;
    assert_eq!(form.callback_type, 9, "the button opens a form");
    let form_id = form.callback["custom_id"]
        .as_str()
        .expect("form")
        .to_owned();
    let text = "Wij sturen elk kwartaal een raadsinformatiebrief, samen geschreven.";
    let saved = bot
        .submit_in(
            &answerer,
            Some(CHANNEL_B_ID),
            &form_id,
            &[("text", text), ("as", "anoniem")],
        )
        .await;
    assert!(saved.is_ephemeral());
    contains(&saved.text(), "anoniem");

    // The asker hears of it by direct message, with the button that says it helped, and
    // without the name of someone who answered anonymously.
    eventually("the asker hears of the answer", || {
        bot.fake.direct_messages(asker.id).iter().any(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b.to_string().contains("raadsinformatiebrief"))
        })
    })
    .await;
    for r in bot.fake.requests() {
        let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        if body.contains("raadsinformatiebrief") {
            assert!(!body.contains("Aart"), "{} {}: {body}", r.method, r.path);
        }
    }
    let dm = bot
        .fake
        .direct_messages(asker.id)
        .into_iter()
        .find(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b.to_string().contains("raadsinformatiebrief"))
        })
        .expect("dm");
    let mut ids = Vec::new();
    collect_ids(&dm.body.expect("body")["components"], &mut ids);
    let helped = ids
        .into_iter()
        .find(|id| id.starts_with("1:qhp:"))
        .expect("a helped button");
    let marked = bot.click_in(&asker, None, &helped).await;
    contains(&marked.text(), "hielp");
    bot.stop().await;
}

fn collect_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(id) = map.get("custom_id").and_then(Value::as_str) {
                out.push(id.to_owned());
            }
            for x in map.values() {
                collect_ids(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_ids(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_becomes_a_scheduled_event_the_spec_accepts() {
    let bot = set_up().await;
    let moderator = FakeUser::moderator(2, "Mira");
    let when = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let planned = bot
        .cmd(
            &moderator,
            "moderator meeting plan",
            &[
                ("when", json!(when)),
                ("channel", json!(VOICE_ID.to_string())),
                ("name", json!("Leren van de zomer")),
            ],
        )
        .await;
    assert!(!planned.is_ephemeral(), "{}", planned.text());
    contains(&planned.text(), "Voorstel voor de agenda");
    let join = planned.button("Ik kom").expect("a sign-up button");
    let joined = bot.click(&FakeUser::member(61, "Jet"), &join).await;
    contains(&joined.text(), "1 deelnemer komt");
    let address = bot
        .cmd(
            &moderator,
            "moderator meeting plan",
            &[
                ("when", json!(when)),
                (
                    "address",
                    json!("Provinciehuis, Martinikerkhof 12, Groningen"),
                ),
            ],
        )
        .await;
    contains(&address.text(), "Martinikerkhof");

    eventually("both meetings are in the server's calendar", || {
        bot.fake.scheduled_events().len() == 2
    })
    .await;
    let events = bot.fake.scheduled_events();
    let voice = events
        .iter()
        .find(|e| e["entity_type"] == 2)
        .expect("the voice meeting");
    assert_eq!(voice["channel_id"], json!(VOICE_ID.to_string()));
    assert_eq!(voice["guild_id"], json!(GUILD_ID.to_string()));
    assert_eq!(voice["name"], "Leren van de zomer");
    let external = events
        .iter()
        .find(|e| e["entity_type"] == 3)
        .expect("the meeting at an address");
    assert_eq!(
        external["entity_metadata"]["location"],
        "Provinciehuis, Martinikerkhof 12, Groningen"
    );
    assert!(external["scheduled_end_time"].is_string());
    assert!(external["description"]
        .as_str()
        .is_some_and(|d| d.contains("agenda")));
    // The events' ids are kept with the meetings.
    eventually("the event ids are kept", || {
        bot.store
            .scan_prefix(Tree::Meetings, &[])
            .expect("scan")
            .iter()
            .all(|(_, v)| !serde_json::from_slice::<Value>(v).expect("json")["event"].is_null())
    })
    .await;
    let requests: Vec<_> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/api/v10/guilds/{GUILD_ID}/scheduled-events"))
        .collect();
    assert_eq!(requests.len(), 2, "each meeting made one event");

    // Afterwards: the channel gets the one button, a moderator asks the group, and a member
    // shares a lesson of the meeting through the form.
    {
        let mut now = bot.clock.0.lock().unwrap();
        *now += chrono::Duration::days(3);
    }
    eventually("the channel hears the meeting is over", || {
        bot.fake
            .posted(CHANNEL_ID)
            .iter()
            .any(|m| message_text(m).contains("is voorbij"))
    })
    .await;
    let over = bot
        .fake
        .posted(CHANNEL_ID)
        .into_iter()
        .find(|m| message_text(m).contains("is voorbij"))
        .expect("posted");
    let mut ids = Vec::new();
    collect_ids(&over["components"], &mut ids);
    let ask = ids
        .into_iter()
        .find(|id| id.starts_with("1:mls:"))
        .expect("the button that asks for the lessons");
    let refused = bot.click(&FakeUser::member(61, "Jet"), &ask).await;
    contains(&refused.text(), "moderator");
    let asked = bot.click(&moderator, &ask).await;
    assert!(!asked.is_ephemeral());
    contains(&asked.text(), "Wat leerden we");
    let share_button = asked.button("Mijn les delen").expect("a share button");
    let jet = FakeUser::member(61, "Jet");
    let form = bot.click(&jet, &share_button).await;
    assert_eq!(form.callback_type, 9, "the button opens the lesson form");
    let form_id = form.callback["custom_id"]
        .as_str()
        .expect("form")
        .to_owned();
    let saved = bot
        .submit(
            &jet,
            &form_id,
            &[
                ("title", "Samen aan tafel"),
                (
                    "happened",
                    "We zaten voor het eerst met de boeren aan tafel.",
                ),
                ("lesson", "Nodig de boeren uit voordat het plan er ligt."),
                ("tags", "bijeenkomst-b1"),
                ("as", "anoniem"),
            ],
        )
        .await;
    contains(&saved.text(), "anoniem");
    let typo = bot
        .submit(
            &jet,
            &form_id,
            &[
                ("title", "Nog een"),
                ("happened", "Iets."),
                ("lesson", "Iets anders."),
                ("as", "misschien"),
            ],
        )
        .await;
    contains(&typo.text(), "misschien");
    assert!(
        typo.text().contains("Iets anders."),
        "what was typed comes back: {}",
        typo.text()
    );
    let lessons: Vec<Value> = bot
        .store
        .scan_prefix(Tree::Lessons, &[])
        .expect("scan")
        .iter()
        .map(|(_, v)| serde_json::from_slice(v).expect("json"))
        .filter(|l: &Value| {
            l["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("bijeenkomst-b1")))
        })
        .collect();
    assert_eq!(lessons.len(), 1);
    assert_eq!(lessons[0]["attribution"], "anonymous");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_go_to_the_academy_forum_when_the_configuration_names_one() {
    let settings = Settings {
        questions_channel: Some(academie::domain::ChannelId(FORUM_ID)),
        ..Settings::default()
    };
    let bot = start_full(DEFER_AFTER, Vec::new(), settings, Some(FORUM_ID)).await;
    bot.setup().await;
    let asker = FakeUser::member(51, "Vera");
    let form = bot
        .cmd(&asker, "question ask", &[("as", json!("anonymous"))])
        .await;
    let form_id = form.callback["custom_id"]
        .as_str()
        .expect("form")
        .to_owned();
    let asked = bot
        .submit(
            &asker,
            &form_id,
            &[("text", "Wie heeft een goed convenant voor data?")],
        )
        .await;
    contains(&asked.text(), "academiekanaal");
    eventually("the question is a post in the forum", || {
        bot.fake
            .requests()
            .iter()
            .any(|r| r.path == format!("/api/v10/channels/{FORUM_ID}/threads"))
    })
    .await;
    let post = bot
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/api/v10/channels/{FORUM_ID}/threads"))
        .expect("post");
    let body = post.body.expect("body");
    assert!(body["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("Vraag aan de academie V1")));
    assert!(!body.to_string().contains("Vera"), "{body}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_published_while_the_edit_form_is_open_is_not_an_edit() {
    let bot = set_up().await;
    let author = FakeUser::member(81, "Auteur");
    let moderator = FakeUser::moderator(2, "Mira");
    let id = shared_id(
        &bot,
        &author,
        "Vraag om mandaat",
        "Vraag vooraf welk mandaat je hebt.",
        "named",
    )
    .await;
    bot.cmd(&moderator, "moderator review approve", &[("id", json!(id))])
        .await;
    let own = bot.cmd(&author, "lesson edit", &[("id", json!(id))]).await;
    let own_id = own.callback["custom_id"].as_str().expect("id").to_owned();

    // While the author types, the lesson goes out in a digest.
    let preview = bot.cmd(&moderator, "moderator digest compose", &[]).await;
    let publish = preview.button("ublice").expect("publish button");
    let sent = bot.fake.click(&moderator, Some(CHANNEL_ID), &publish).await;
    let published = bot.reply(&sent).await;
    contains(&published.text(), "Vraag om mandaat");

    let saved = bot
        .submit(
            &author,
            &own_id,
            &[
                ("title", "Vraag vooraf om mandaat"),
                ("happened", "Vraag vooraf welk mandaat je hebt."),
                ("lesson", "Zeg hardop welk mandaat je hebt."),
                ("tags", ""),
            ],
        )
        .await;
    lacks(&saved.text(), "intussen");
    let shown = bot.cmd(&author, "lesson show", &[("id", json!(id))]).await;
    contains(&shown.text(), "Vraag vooraf om mandaat");
    bot.stop().await;
}
