//! The outbox's stored form: a message queued by a build of schema 5 (the whole reply, an
//! attachment as an array of numbers, choices as the engine's actions) is read after the
//! upgrade, restored from a backup, and delivered by Discord and the console as it was meant.

use crate::support;

use academie::config::Secret;
use academie::discord::{serve, ServeOptions, DEFER_AFTER};
use academie::disk::MemoryDisk;
use academie::domain::{Lang, Role, RoundId};
use academie::engine::backup::{load_backup, read_backup, write_backup};
use academie::engine::{Engine, Outgoing, Recipient, Settings, SystemClock};
use academie::reply::{Action, Attachment, Reply};
use academie::search::SearchQuery;
use academie::store::{
    schema_version, Batch, MemoryStore, SledStore, Store, Tree, SCHEMA_KEY, SCHEMA_VERSION,
};
use academie::text::Catalog;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::fake_discord::*;

const WAIT: Duration = Duration::from_secs(10);

/// A search longer than a custom_id holds, so its button needs the store.
fn long_text() -> String {
    "samenwerking tussen gemeente en waterschap ".repeat(3)
}

/// A channel message exactly as a schema-5 build wrote it (`serde_json` of its `Outgoing`,
/// field by field in declaration order): the reply whole, a round's answer button, a page of a
/// long search, and a PNG's first bytes as an array of numbers.
fn schema_5_record(channel: u64) -> String {
    format!(
        concat!(
            r#"{{"id":1,"to":{{"channel":{channel}}},"reply":{{"visibility":"Channel","#,
            r#""title":"R3 · Het vraagstuk","body":"De deadline is verstreken.","#,
            r#""sections":[{{"heading":"Anouk","body":"Netcongestie in de regio."}}],"#,
            r#""choices":[{{"label":"Antwoord","action":{{"Answer":3}}}},"#,
            r#"{{"label":"Meer","action":{{"SearchPage":{{"text":"{text}","order":null,"#,
            r#""step":null,"perspective":null,"tag":null,"channel":null,"from":null,"#,
            r#""to":null,"page":1}}}}}}],"notices":[],"#,
            r#""attachments":[{{"filename":"figuur.png","bytes":[137,80,78,71,13,10,26,10]}}],"#,
            r#""chat_markdown":false}},"failures":1,"parts_sent":0}}"#
        ),
        channel = channel,
        text = long_text(),
    )
}

/// The reply the record holds, as the engine builds replies today.
fn expected_reply() -> Reply {
    let mut reply = Reply::channel("De deadline is verstreken.")
        .titled("R3 · Het vraagstuk")
        .section("Anouk", "Netcongestie in de regio.")
        .choice("Antwoord", Action::Answer(RoundId(3)))
        .choice(
            "Meer",
            Action::SearchPage(Box::new(SearchQuery {
                text: Some(long_text()),
                page: 1,
                ..SearchQuery::default()
            })),
        );
    reply.attachments.push(Attachment {
        filename: "figuur.png".into(),
        bytes: vec![137, 80, 78, 71, 13, 10, 26, 10],
    });
    reply
}

fn expected(channel: u64) -> Outgoing {
    Outgoing {
        id: 1,
        to: Recipient::Channel(academie::domain::ChannelId(channel)),
        reply: expected_reply(),
        failures: 1,
        parts_sent: 0,
    }
}

/// Puts `store` at schema 5 with the old record waiting in its outbox.
fn as_schema_5(store: &dyn Store, channel: u64) {
    let mut batch = Batch::new();
    batch.put(Tree::Meta, SCHEMA_KEY, 5u32.to_be_bytes().to_vec());
    batch.put(
        Tree::Outbox,
        1u64.to_be_bytes().to_vec(),
        schema_5_record(channel).into_bytes(),
    );
    batch.put(
        Tree::Meta,
        b"next_id:outgoing".to_vec(),
        1u64.to_be_bytes().to_vec(),
    );
    store.commit(batch).unwrap();
}

fn engine(store: Arc<dyn Store>) -> Engine {
    Engine::new(
        store,
        Arc::new(Catalog::embedded().unwrap()),
        Arc::new(SystemClock),
        Settings::default(),
    )
}

#[test]
fn a_message_queued_by_schema_5_is_rewritten_by_the_upgrade_and_reads_the_same() {
    let store = Arc::new(MemoryStore::default());
    as_schema_5(store.as_ref(), 42);
    let engine = engine(store.clone());
    assert_eq!(engine.upgrade().unwrap(), 5);
    assert_eq!(schema_version(store.as_ref()).unwrap(), SCHEMA_VERSION);
    let stored = store
        .get(Tree::Outbox, &1u64.to_be_bytes())
        .unwrap()
        .unwrap();
    let text = String::from_utf8(stored).unwrap();
    assert!(
        text.contains(r#""bytes":"iVBORw0KGgo=""#) && text.contains(r#""message":"#),
        "stored in the new form: {text}"
    );
    assert_eq!(engine.outbox().waiting().unwrap(), vec![expected(42)]);
    // The counters still count: a third refusal gives the message up.
    engine.outbox().failed(1).unwrap();
    assert_eq!(engine.outbox().waiting().unwrap()[0].failures, 2);
    engine.outbox().parts_delivered(1, 1).unwrap();
    assert_eq!(engine.outbox().waiting().unwrap()[0].parts_sent, 1);
    engine.outbox().failed(1).unwrap();
    assert!(engine.outbox().waiting().unwrap().is_empty());
}

#[test]
fn a_backup_of_schema_5_with_a_waiting_message_restores_and_delivers_it() {
    let disk = MemoryDisk::default();
    let old = MemoryStore::default();
    as_schema_5(&old, 42);
    let path = Path::new("/b/old.jsonl");
    let summary = write_backup(&disk, &old, path).unwrap();
    assert_eq!(summary.schema_version, 5);
    let backup = read_backup(&disk, path).expect("the old record passes the check");
    let fresh = Arc::new(MemoryStore::default());
    load_backup(fresh.as_ref(), &backup).unwrap();
    let engine = engine(fresh.clone());
    assert_eq!(engine.upgrade().unwrap(), 5);
    assert_eq!(engine.outbox().waiting().unwrap(), vec![expected(42)]);
    // And a backup of the upgraded database checks as well.
    let again = Path::new("/b/new.jsonl");
    write_backup(&disk, fresh.as_ref(), again).unwrap();
    read_backup(&disk, again).expect("the new record passes the check");
}

#[test]
fn the_console_prints_a_message_queued_by_schema_5() {
    let store = Arc::new(MemoryStore::default());
    // The console's own channel.
    as_schema_5(store.as_ref(), academie::console::CONSOLE_CHANNEL.0);
    let engine = engine(store);
    engine.upgrade().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut console = academie::console::Console::new(
        &engine,
        Some("Anouk"),
        Role::Member,
        Lang::Nl,
        dir.path().to_owned(),
    );
    let mut out = Vec::new();
    assert!(console.run_scheduled(&mut out).unwrap());
    let out = String::from_utf8(out).unwrap();
    for shown in [
        "R3 · Het vraagstuk",
        "De deadline is verstreken.",
        "Netcongestie in de regio.",
        "Antwoord",
    ] {
        assert!(out.contains(shown), "{shown} in {out}");
    }
    assert!(
        engine.outbox().waiting().unwrap().is_empty(),
        "delivered once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_delivers_a_message_queued_by_schema_5_and_keeps_its_long_search() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).unwrap());
    as_schema_5(store.as_ref(), CHANNEL_ID);
    let engine = Arc::new(academie::local(engine(store.clone())));
    assert_eq!(engine.upgrade().unwrap(), 5);
    let options = ServeOptions {
        token: Secret::new("fake-token"),
        proxy_url: Some(fake.base_url()),
        guilds: Vec::new(),
        moderator_role: None,
        default_lang: Lang::Nl,
        defer_after: DEFER_AFTER,
        tick: Duration::from_millis(100),
        questions_forum: None,
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(engine.clone(), options, async move {
        let _ = rx.await;
    }));
    fake.wait_ready(WAIT).await.expect("the bot connected");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !engine.outbox().waiting().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        engine.outbox().waiting().unwrap().is_empty(),
        "delivered and cleared"
    );
    let posts = fake.channel_messages(CHANNEL_ID);
    assert_eq!(posts.len(), 1, "posted once");
    let post = &posts[0];
    let body = post.body.as_ref().expect("a body").to_string();
    for shown in [
        "R3 · Het vraagstuk",
        "De deadline is verstreken.",
        "Netcongestie in de regio.",
    ] {
        assert!(body.contains(shown), "{shown} in {body}");
    }
    assert_eq!(
        post.files,
        vec![(
            "figuur.png".to_owned(),
            vec![137, 80, 78, 71, 13, 10, 26, 10]
        )],
        "the attachment's bytes, as queued"
    );
    let ids: Vec<String> = post.body.as_ref().unwrap()["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids[0], "1:ans:3", "{ids:?}");
    let hash = ids[1].strip_prefix("1:q:").expect("a stored search");
    let kept = engine
        .kept_search(hash)
        .unwrap()
        .expect("kept before sending");
    assert!(kept.contains("samenwerking"), "{kept}");
    let _ = tx.send(());
    let _ = tokio::time::timeout(WAIT, task).await;
}
