//! Slash commands for Discord, generated from the one command table with Dutch localizations.
//!
//! Discord shows a command in the user's client language: English names are the base, Dutch
//! names and descriptions are the `nl` localizations. Long free text does not fit a slash option
//! comfortably, so those options are asked in a form (modal) instead; which ones is decided here,
//! once, for registration and for handling alike.

use crate::commands::{Audience, Kind, Opt, Place, Spec, SPECS};
use crate::domain::{Attribution, Lang, Layer, Order, Perspective, Reminders, Step};
use crate::engine::limits;
use crate::text::{keys as k, Catalog};
use serenity::all::{
    ChannelType, CommandOptionType, CreateCommand, CreateCommandOption, InstallationContext,
    InteractionContext, Permissions,
};

/// Discord's limit on command and option descriptions.
const DESCRIPTION: usize = 100;

/// Options asked in a form rather than in the slash command: the long texts, with the title and
/// tags that belong with them.
pub fn in_form(spec: &Spec, o: &Opt) -> bool {
    let has_text = spec.options.iter().any(|o| o.kind == Kind::Text);
    has_text && (o.kind == Kind::Text || o.name == "title" || o.name == "tags")
}

/// The options the slash command itself carries, required ones first as Discord demands.
pub fn slash_options(spec: &Spec) -> Vec<&'static Opt> {
    let mut out: Vec<&'static Opt> = spec.options.iter().filter(|o| !in_form(spec, o)).collect();
    out.sort_by_key(|o| !o.required);
    out
}

/// Whether a command opens a form.
pub fn has_form(spec: &Spec) -> bool {
    spec.options.iter().any(|o| in_form(spec, o))
}

fn option_key(o: &Opt) -> &'static str {
    match (o.name, o.kind) {
        ("id", Kind::QuestionId) => k::QUESTION_OPTION_ID,
        ("id", Kind::MeetingId) => k::MEETING_OPTION_ID,
        ("lessons", Kind::Yes) => k::SHARED_OPTION_LESSONS,
        ("name", Kind::Yes) => k::SHARED_OPTION_NAME,
        ("step5", _) => k::SHARED_OPTION_STEP5,
        ("questions", _) => k::SHARED_OPTION_QUESTIONS,
        ("servers", _) => k::SHARED_OPTION_SERVERS,
        ("answer", Kind::Page) => k::QUESTION_OPTION_ANSWER,
        ("agree", _) => k::QUESTION_OPTION_AGREE,
        ("when", _) => k::MEETING_OPTION_WHEN,
        ("minutes", _) => k::MEETING_OPTION_MINUTES,
        ("address", _) => k::MEETING_OPTION_ADDRESS,
        ("channel", Kind::Channel) => k::MEETING_OPTION_CHANNEL,
        // The title of a lesson made from a question: the only title asked in a slash option
        // that is required (a lesson shared directly asks its title in a form).
        ("title", Kind::Line) if o.required => k::QUESTION_OPTION_TITLE,
        ("name", Kind::Line) => k::MEETING_OPTION_TITLE,
        ("id", Kind::DigestId) => k::OPTION_DIGEST_ID,
        ("id", _) => k::OPTION_ID,
        ("step", _) => k::OPTION_STEP,
        ("deadline", _) => k::OPTION_DEADLINE,
        ("text", _) => k::OPTION_TEXT,
        ("title", _) => k::OPTION_TITLE,
        ("order", _) => k::OPTION_ORDER,
        ("steps", _) => k::OPTION_STEPS,
        ("perspective", _) => k::OPTION_PERSPECTIVE,
        ("as", _) => k::OPTION_AS,
        ("tag", _) => k::OPTION_TAG,
        ("here", _) => k::OPTION_HERE,
        ("from", _) => k::OPTION_FROM,
        ("to", _) => k::OPTION_TO,
        ("page", _) => k::OPTION_PAGE,
        ("confirm", _) => k::OPTION_CONFIRM,
        ("task", _) => k::OPTION_TASK,
        ("region", _) => k::OPTION_REGION,
        ("layers", _) => k::OPTION_LAYERS,
        ("language", _) => k::OPTION_LANGUAGE,
        ("time_zone", _) => k::OPTION_TIME_ZONE,
        ("republish", _) => k::OPTION_REPUBLISH,
        ("library", _) => k::OPTION_LIBRARY,
        ("layer", _) => k::OPTION_LAYER,
        ("via", _) => k::OPTION_VIA,
        ("note", _) => k::OPTION_NOTE,
        ("weeks", _) => k::OPTION_WEEKS,
        ("yield", _) => k::OPTION_YIELD,
        ("lessons", _) => k::OPTION_LESSONS,
        ("pause", _) => k::OPTION_PAUSE,
        _ => k::OPTION_TEXT,
    }
}

fn group_key(group: &str) -> &'static str {
    match group {
        "round" => k::GROUP_ROUND,
        "answer" => k::GROUP_ANSWER,
        "lesson" => k::GROUP_LESSON,
        "review" => k::GROUP_REVIEW,
        "digest" => k::GROUP_DIGEST,
        "doing" => k::GROUP_DOING,
        "moderator" => k::GROUP_MODERATOR,
        "question" => k::QUESTION_GROUP,
        "meeting" => k::MEETING_GROUP,
        "learning" => k::STEP5_GROUP,
        _ => k::GROUP_MYDATA,
    }
}

/// Text in both languages, clipped to Discord's limit.
fn both(text: &Catalog, key: &str) -> (String, String) {
    let clip = |s: String| super::render::clip(s.trim(), DESCRIPTION);
    (
        clip(text.plain(Lang::En, key)),
        clip(text.plain(Lang::Nl, key)),
    )
}

/// The longest text a slash option accepts, where the engine has a limit for it.
fn max_length(o: &Opt) -> Option<u16> {
    let n = match o.name {
        "title" => limits::TITLE,
        "task" => limits::TASK,
        "region" => limits::REGION,
        "tag" => limits::TAG,
        "text" => 200,
        _ => return None,
    };
    u16::try_from(n).ok()
}

type Choices = Vec<(String, String, String)>;

/// `(value, English name, Dutch name)` for options with a fixed set of values.
fn choices(text: &Catalog, kind: Kind) -> Option<Choices> {
    let (en, nl) = (text.academy(Lang::En), text.academy(Lang::Nl));
    let clip = |s: String| super::render::clip(&s, DESCRIPTION);
    Some(match kind {
        Kind::Step => Step::ALL
            .iter()
            .map(|s| {
                let name = |t: &crate::text::AcademyText| {
                    clip(format!("{}. {}", s.number(), t.step(*s).short))
                };
                (s.key().to_owned(), name(en), name(nl))
            })
            .collect(),
        Kind::Order => Order::ALL
            .iter()
            .map(|o| {
                (
                    o.key().to_owned(),
                    clip(en.order(*o).name.clone()),
                    clip(nl.order(*o).name.clone()),
                )
            })
            .collect(),
        Kind::Perspective => Perspective::ALL
            .iter()
            .map(|p| {
                (
                    p.key().to_owned(),
                    clip(en.perspective(*p).name.clone()),
                    clip(nl.perspective(*p).name.clone()),
                )
            })
            .collect(),
        Kind::Layer => Layer::ALL
            .iter()
            .map(|l| {
                (
                    l.key().to_owned(),
                    clip(en.layer(*l).name.clone()),
                    clip(nl.layer(*l).name.clone()),
                )
            })
            .collect(),
        Kind::Attribution => Attribution::ALL
            .iter()
            .map(|a| {
                let key = match a {
                    Attribution::Named => k::CHOICE_NAMED,
                    Attribution::Layer => k::CHOICE_LAYER,
                    Attribution::Anonymous => k::CHOICE_ANONYMOUS,
                };
                let (e, n) = both(text, key);
                (a.key().to_owned(), e, n)
            })
            .collect(),
        Kind::Reminders => [
            (Reminders::Channel, k::CHOICE_REMINDERS_CHANNEL),
            (Reminders::Direct, k::CHOICE_REMINDERS_DM),
            (Reminders::Off, k::CHOICE_REMINDERS_OFF),
        ]
        .iter()
        .map(|(r, key)| {
            let (e, n) = both(text, key);
            (r.key().to_owned(), e, n)
        })
        .collect(),
        Kind::Amount => [("much", k::CHOICE_MUCH), ("little", k::CHOICE_LITTLE)]
            .iter()
            .map(|(value, key)| {
                let (e, n) = both(text, key);
                ((*value).to_owned(), e, n)
            })
            .collect(),
        Kind::Lang => [(Lang::Nl, k::CHOICE_NL), (Lang::En, k::CHOICE_EN)]
            .iter()
            .map(|(l, key)| {
                let (e, n) = both(text, key);
                (l.key().to_owned(), e, n)
            })
            .collect(),
        _ => return None,
    })
}

fn option(text: &Catalog, o: &Opt) -> CreateCommandOption {
    let kind = match o.kind {
        Kind::Yes => CommandOptionType::Boolean,
        Kind::Page | Kind::Weeks => CommandOptionType::Integer,
        Kind::Channel => CommandOptionType::Channel,
        _ => CommandOptionType::String,
    };
    let (en, nl) = both(text, option_key(o));
    let mut opt = CreateCommandOption::new(kind, o.name, en)
        .name_localized("nl", o.nl)
        .description_localized("nl", nl)
        .required(o.required);
    if o.kind == Kind::Page {
        opt = opt.min_int_value(1).max_int_value(1000);
    }
    if o.kind == Kind::Weeks {
        let weeks = crate::engine::limits::WEEKS;
        opt = opt
            .min_int_value(u64::from(*weeks.start()))
            .max_int_value(u64::from(*weeks.end()));
    }
    if o.kind == Kind::Channel {
        // A meeting's place online: a voice (or stage) channel.
        opt = opt.channel_types(vec![ChannelType::Voice, ChannelType::Stage]);
    }
    if let Some(max) = max_length(o) {
        opt = opt.max_length(max);
    }
    if let Some(list) = choices(text, o.kind) {
        for (value, en, nl) in list {
            opt = opt.add_string_choice_localized(en, value, [("nl", nl)]);
        }
    }
    opt
}

/// A subcommand: the leaf of a command path, with its options and description.
fn subcommand(text: &Catalog, spec: &Spec, (en, nl): (&str, &str)) -> CreateCommandOption {
    let (s_en, s_nl) = both(text, spec.help);
    CreateCommandOption::new(CommandOptionType::SubCommand, en, s_en)
        .name_localized("nl", nl)
        .description_localized("nl", s_nl)
        .set_sub_options(
            slash_options(spec)
                .iter()
                .map(|o| option(text, o))
                .collect::<Vec<_>>(),
        )
}

/// Every slash command, ready to register globally or per server.
///
/// What Discord shows to whom is decided per top-level command: `contexts` says where it is
/// offered (a server, or also a direct message with the bot) and `default_member_permissions`
/// hides it from members without Manage Server. So each top-level command serves one
/// audience: the moderators' actions all live under `/moderator`, and `/setup` stands alone.
/// The engine still checks every action, whatever Discord shows.
pub fn commands(text: &Catalog) -> Vec<CreateCommand> {
    // Top-level commands in table order, each with the specs under it.
    let mut tops: Vec<((&'static str, &'static str), Vec<&'static Spec>)> = Vec::new();
    for spec in SPECS {
        let Some(first) = spec.path.first() else {
            continue;
        };
        match tops.iter_mut().find(|t| t.0 .0 == first.0) {
            Some(t) => t.1.push(spec),
            None => tops.push((*first, vec![spec])),
        }
    }
    let mut out = Vec::new();
    for ((en, nl), specs) in tops {
        let (d_en, d_nl, options) = match specs.as_slice() {
            [spec] if spec.path.len() == 1 => {
                let (d_en, d_nl) = both(text, spec.help);
                let options = slash_options(spec)
                    .iter()
                    .map(|o| option(text, o))
                    .collect();
                (d_en, d_nl, options)
            }
            _ => {
                let (d_en, d_nl) = both(text, group_key(en));
                (d_en, d_nl, children(text, &specs))
            }
        };
        let mut cmd = CreateCommand::new(en)
            .name_localized("nl", nl)
            .description(d_en)
            .description_localized("nl", d_nl)
            .set_options(options)
            // The bot is installed in servers, not by users.
            .integration_types(vec![InstallationContext::Guild]);
        let anywhere = specs.iter().any(|s| s.place == Place::Anywhere);
        cmd = cmd.contexts(if anywhere {
            vec![InteractionContext::Guild, InteractionContext::BotDm]
        } else {
            vec![InteractionContext::Guild]
        });
        if specs.iter().all(|s| s.audience == Audience::Moderators) {
            // Only hides the command; the engine checks every action itself.
            cmd = cmd.default_member_permissions(Permissions::MANAGE_GUILD);
        }
        out.push(cmd);
    }
    out
}

/// One option of a top-level command: a subcommand, or a group of them.
enum Child {
    Sub(Box<CreateCommandOption>),
    Group((&'static str, &'static str), Vec<CreateCommandOption>),
}

/// The subcommands and subcommand groups under one top-level command, in table order.
fn children(text: &Catalog, specs: &[&'static Spec]) -> Vec<CreateCommandOption> {
    let mut kids: Vec<Child> = Vec::new();
    for spec in specs {
        match spec.path {
            [_, leaf] => kids.push(Child::Sub(Box::new(subcommand(text, spec, *leaf)))),
            [_, group, leaf] => {
                let sub = subcommand(text, spec, *leaf);
                let existing = kids.iter_mut().find_map(|c| match c {
                    Child::Group(g, subs) if g.0 == group.0 => Some(subs),
                    _ => None,
                });
                match existing {
                    Some(subs) => subs.push(sub),
                    None => kids.push(Child::Group(*group, vec![sub])),
                }
            }
            _ => {}
        }
    }
    kids.into_iter()
        .map(|c| match c {
            Child::Sub(option) => *option,
            Child::Group((en, nl), subs) => {
                let (d_en, d_nl) = both(text, group_key(en));
                CreateCommandOption::new(CommandOptionType::SubCommandGroup, en, d_en)
                    .name_localized("nl", nl)
                    .description_localized("nl", d_nl)
                    .set_sub_options(subs)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_real_descriptions_in_both_languages() {
        let text = Catalog::embedded().expect("catalog");
        let json = serde_json::to_value(commands(&text)).expect("json");
        let list = json.as_array().expect("array");
        assert!(list.len() >= 10);
        fn walk(v: &serde_json::Value, path: &str) {
            if let Some(d) = v.get("description").and_then(|d| d.as_str()) {
                assert!(!d.is_empty() && !d.starts_with('['), "{path}: {d}");
                assert!(d.chars().count() <= DESCRIPTION, "{path}");
                let nl = v["description_localizations"]["nl"].as_str().unwrap_or("");
                assert!(!nl.is_empty() && !nl.starts_with('['), "{path}: nl {nl}");
                let name = v["name"].as_str().unwrap_or("");
                assert_eq!(name, name.to_lowercase(), "{path}");
            }
            if let Some(opts) = v.get("options").and_then(|o| o.as_array()) {
                let mut optional_seen = false;
                for o in opts {
                    let req = o.get("required").and_then(|r| r.as_bool()).unwrap_or(false);
                    assert!(!(req && optional_seen), "{path}: required after optional");
                    optional_seen |= !req && o["type"] != 1;
                    walk(o, &format!("{path}/{}", o["name"]));
                }
            }
        }
        for c in list {
            walk(c, c["name"].as_str().unwrap_or("?"));
        }
    }

    #[test]
    fn long_texts_go_to_forms() {
        let share = SPECS
            .iter()
            .find(|s| s.id() == "lesson share")
            .expect("spec");
        let slash: Vec<&str> = slash_options(share).iter().map(|o| o.name).collect();
        assert_eq!(slash, vec!["order", "steps", "perspective", "as"]);
        let setup = SPECS.iter().find(|s| s.id() == "setup").expect("spec");
        assert!(!has_form(setup));
    }
}
