//! Slash commands for Discord, generated from the one command table with Dutch localizations.
//!
//! Discord shows a command in the user's client language: English names are the base, Dutch
//! names and descriptions are the `nl` localizations. Everything said about an option (its
//! kind, limits, description, whether a form asks it) comes from its entry in the table.

use super::limits::{DESCRIPTION, OPTION_LENGTH};
use crate::commands::{self, Audience, Kind, Limit, Opt, Place, Spec, SPECS};
use crate::domain::{Attribution, Lang, Layer, Order, Perspective, Reminders, Step};
use crate::text::{keys as k, AcademyText, Catalog};
use serenity::all::{
    ChannelType, CommandOptionType, CreateCommand, CreateCommandOption, InstallationContext,
    InteractionContext, Permissions,
};

/// Text in both languages, clipped to Discord's limit.
fn both(text: &Catalog, key: &str) -> (String, String) {
    let clip = |s: String| super::render::clip(s.trim(), DESCRIPTION);
    (
        clip(text.plain(Lang::En, key)),
        clip(text.plain(Lang::Nl, key)),
    )
}

type Choices = Vec<(String, String, String)>;

/// Values of the domain by their stored key, named as the academy's texts in English and Dutch
/// name them.
fn named<T: Copy>(
    (en, nl): (&AcademyText, &AcademyText),
    all: &[T],
    key: fn(T) -> &'static str,
    name: fn(&AcademyText, T) -> &String,
) -> Choices {
    let clip = |s: &String| super::render::clip(s, DESCRIPTION);
    all.iter()
        .map(|v| (key(*v).to_owned(), clip(name(en, *v)), clip(name(nl, *v))))
        .collect()
}

/// Values by their stored key, named by a text of the catalog.
fn keyed<'k>(text: &Catalog, values: impl IntoIterator<Item = (&'static str, &'k str)>) -> Choices {
    values
        .into_iter()
        .map(|(value, key)| {
            let (e, n) = both(text, key);
            (value.to_owned(), e, n)
        })
        .collect()
}

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
        Kind::Order => named((en, nl), Order::ALL, Order::key, |t, o| &t.order(o).name),
        Kind::Perspective => named((en, nl), Perspective::ALL, Perspective::key, |t, p| {
            &t.perspective(p).name
        }),
        Kind::Layer => named((en, nl), Layer::ALL, Layer::key, |t, l| &t.layer(l).name),
        Kind::Attribution => keyed(
            text,
            Attribution::ALL.iter().map(|a| {
                let key = match a {
                    Attribution::Named => k::CHOICE_NAMED,
                    Attribution::Layer => k::CHOICE_LAYER,
                    Attribution::Anonymous => k::CHOICE_ANONYMOUS,
                };
                (a.key(), key)
            }),
        ),
        Kind::Reminders => keyed(
            text,
            [
                (Reminders::Channel.key(), k::CHOICE_REMINDERS_CHANNEL),
                (Reminders::Direct.key(), k::CHOICE_REMINDERS_DM),
                (Reminders::Off.key(), k::CHOICE_REMINDERS_OFF),
            ],
        ),
        Kind::Amount => keyed(
            text,
            [("much", k::CHOICE_MUCH), ("little", k::CHOICE_LITTLE)],
        ),
        Kind::Lang => keyed(
            text,
            [
                (Lang::Nl.key(), k::CHOICE_NL),
                (Lang::En.key(), k::CHOICE_EN),
            ],
        ),
        _ => return None,
    })
}

fn option(text: &Catalog, o: &Opt) -> CreateCommandOption {
    let kind = match o.kind {
        Kind::Yes => CommandOptionType::Boolean,
        Kind::Channel => CommandOptionType::Channel,
        k if k.is_number() => CommandOptionType::Integer,
        _ => CommandOptionType::String,
    };
    let (en, nl) = both(text, o.help);
    let mut opt = CreateCommandOption::new(kind, o.name, en)
        .name_localized("nl", o.nl)
        .description_localized("nl", nl)
        .required(o.required);
    match o.limit {
        Limit::None => {}
        Limit::Chars(max) => {
            let max = u16::try_from(max.min(OPTION_LENGTH)).unwrap_or(u16::MAX);
            opt = opt.max_length(max);
        }
        Limit::Range(min, max) => {
            opt = opt
                .min_int_value(u64::from(min))
                .max_int_value(u64::from(max));
        }
    }
    if o.kind == Kind::Channel {
        // A meeting's place online: a voice (or stage) channel.
        opt = opt.channel_types(vec![ChannelType::Voice, ChannelType::Stage]);
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
            spec.slash_options()
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
                let options = spec
                    .slash_options()
                    .iter()
                    .map(|o| option(text, o))
                    .collect();
                (d_en, d_nl, options)
            }
            _ => {
                let (d_en, d_nl) = both(text, commands::group_help(en));
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
                let (d_en, d_nl) = both(text, commands::group_help(en));
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
        let slash: Vec<&str> = share.slash_options().iter().map(|o| o.name).collect();
        assert_eq!(slash, vec!["order", "steps", "perspective", "as"]);
        let setup = SPECS.iter().find(|s| s.id() == "setup").expect("spec");
        assert!(!setup.has_form());
    }
}
