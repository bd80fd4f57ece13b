//! How the tests of the engine and its adapters start an academy: the clock a test moves by
//! hand, an engine wired as the binary wires it, someone acting in a channel, and every stored
//! entry to compare "nothing changed" against. Written once so every test starts the same way.

use academie::domain::{Actor, ChannelId, Lang, Layer, Role, UserId};
use academie::engine::{Clock, Ctx, Engine, Request, Settings};
use academie::store::{Store, Tree};
use academie::text::Catalog;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A clock the test moves by hand.
pub struct TestClock(pub Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(now: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(now)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A Monday morning, the moment the engine tests start at.
pub fn monday() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("date")
        .into()
}

/// An engine on `store` with the embedded texts, the machine's disk and the rasterizer.
pub fn engine(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Engine {
    academie::local(Engine::new(
        store,
        Arc::new(Catalog::embedded().expect("catalog")),
        clock,
        settings,
    ))
}

/// The setup of the collaboration the engine's site and hostile-input tests play: climate
/// adaptation in the Delta, for municipalities, in the academy's language and time zone.
pub fn delta_request() -> Request {
    Request::Setup {
        task: "Klimaatadaptatie".into(),
        region: "Delta".into(),
        layers: vec![Layer::Municipality],
        lang: None,
        zone: None,
    }
}

/// Someone acting in `channel` (outside any server).
pub fn acting(id: u64, name: &str, role: Role, lang: Lang, channel: Option<ChannelId>) -> Ctx {
    Ctx {
        actor: Actor {
            id: UserId(id),
            name: name.into(),
            lang,
            role,
        },
        channel,
        server: None,
    }
}

/// Every entry of every tree.
pub fn snapshot(store: &dyn Store) -> Vec<(Tree, Vec<u8>, Vec<u8>)> {
    Tree::ALL
        .iter()
        .flat_map(|t| {
            store
                .scan_prefix(*t, &[])
                .unwrap()
                .into_iter()
                .map(move |(k, v)| (*t, k, v))
        })
        .collect()
}

/// How the tests serve a fake Discord at `base_url`: a token it accepts, no guild to register
/// commands in, no moderator role, Dutch, the real deferral time and a quick tick.
pub fn serve_options(base_url: String) -> academie::discord::ServeOptions {
    academie::discord::ServeOptions {
        token: academie::config::Secret::new("fake-token"),
        proxy_url: Some(base_url),
        guilds: Vec::new(),
        moderator_role: None,
        default_lang: Lang::Nl,
        defer_after: academie::discord::DEFER_AFTER,
        tick: std::time::Duration::from_millis(100),
        questions_forum: None,
    }
}

/// Sends `req`, which `engine` must refuse in words that rendered, with nothing in `store`
/// changed; returns the refusal.
pub fn refused(
    engine: &Engine,
    store: &dyn Store,
    ctx: &Ctx,
    req: academie::engine::Request,
) -> academie::engine::Refusal {
    let before = snapshot(store);
    match engine.handle(ctx, req.clone()) {
        Err(academie::engine::Failure::Refused(r)) => {
            assert_eq!(
                before,
                snapshot(store),
                "a refused {req:?} changed the store"
            );
            assert!(!r.text.is_empty());
            assert!(
                !r.text.starts_with('['),
                "the refusal failed to render: {}",
                r.text
            );
            r
        }
        other => panic!("{req:?} should be refused, got {other:?}"),
    }
}

/// The `/setup` options of the collaboration the Discord tests and the end-to-end bench play:
/// climate adaptation in the Delta, on three layers.
pub fn delta_setup() -> [(&'static str, serde_json::Value); 3] {
    [
        ("task", serde_json::json!("Klimaatadaptatie in de Delta")),
        ("region", serde_json::json!("Zuidwest-Delta")),
        (
            "layers",
            serde_json::json!("gemeente, provincie, waterschap"),
        ),
    ]
}

/// The digest a compose reply offers to publish (its last button).
pub fn publish_button(reply: &academie::reply::Reply) -> academie::domain::DigestId {
    match reply.choices.last().map(|c| &c.action) {
        Some(academie::reply::Action::PublishDigest(id)) => *id,
        other => panic!("a publish button, not {other:?}: {reply:?}"),
    }
}
