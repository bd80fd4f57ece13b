//! Property tests for the parsers and codecs that take outside input — the custom_id codec,
//! the text splitter, the lesson-file parser and the config parser: for any input, no panic, and
//! what they promise holds. A short run in CI (`PROPTEST_CASES` raises it for a longer one).

use academie::discord::custom_id::{self, Target};
use academie::discord::split::{split, units};
use academie::domain::{ChannelId, Order, Perspective, Step};
use academie::reply::Action;
use academie::search::SearchQuery;
use proptest::prelude::*;

fn any_query() -> impl Strategy<Value = SearchQuery> {
    (
        proptest::option::of(".{0,60}"),
        proptest::option::of(0usize..3),
        proptest::option::of(1u8..=5),
        proptest::option::of(0usize..4),
        proptest::option::of("[a-z:%-]{1,20}"),
        proptest::option::of(any::<u64>()),
        0usize..500,
    )
        .prop_map(
            |(text, order, step, perspective, tag, channel, page)| SearchQuery {
                text: text.filter(|t| !t.is_empty()),
                order: order.map(|i| Order::ALL[i]),
                step: step.and_then(Step::from_number),
                perspective: perspective.map(|i| Perspective::ALL[i]),
                tag: tag.filter(|t| !t.is_empty()),
                channel: channel.map(ChannelId),
                from: None,
                to: None,
                page,
            },
        )
}

proptest! {
    #[test]
    fn decoding_any_custom_id_never_panics(id in ".{0,120}") {
        let _ = custom_id::decode(&id);
    }

    #[test]
    fn a_search_page_survives_its_custom_id(q in any_query()) {
        let action = Action::SearchPage(Box::new(q.clone()));
        let id = custom_id::encode_action(&action);
        if id.chars().count() <= custom_id::MAX_LEN {
            prop_assert_eq!(custom_id::decode(&id), Ok(Target::Action(action)));
        } else {
            // Too long for Discord: it travels as a stored query instead, which decodes back.
            let stored = custom_id::encode_query(&q);
            prop_assert_eq!(custom_id::decode_query(&stored), Some(q));
        }
    }

    #[test]
    fn split_pieces_fit_and_lose_nothing(text in "(?s).{0,3000}", max in 8usize..2100) {
        let pieces = split(&text, max);
        for p in &pieces {
            prop_assert!(units(p) <= max, "{} > {max}", units(p));
        }
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        prop_assert_eq!(squeeze(&pieces.concat()), squeeze(&text));
    }

    #[test]
    fn parsing_any_lesson_file_never_panics(text in "(?s)(\\+\\+\\+\n)?.{0,400}") {
        let _ = academie::engine::parse_library_file("x.md", &text);
    }

    #[test]
    fn loading_any_config_never_panics(text in "(?s)(\\[(storage|academy|discord|console)\\]\n)?[a-z_ =\"0-9\n\\[\\],.-]{0,200}") {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("academie.toml");
        std::fs::write(&path, &text).expect("write");
        let _ = academie::config::Settings::load(Some(&path), &|_| None);
    }
}
