//! Proves the fake Discord is faithful before any bot test relies on it: its payloads parse in
//! serenity, its validation rejects what Discord rejects and accepts what serenity's builders
//! produce, and a real serenity client works against it end to end.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use serenity::all::{
    ActionRowComponent, ButtonStyle, ClientBuilder, CommandDataOptionValue, CommandOptionType,
    Context, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateCommand,
    CreateCommandOption, CreateEmbed, CreateEmbedFooter, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, CreateModal, EditInteractionResponse, EventHandler, GatewayIntents, HttpBuilder,
    InputTextStyle, Interaction, Permissions,
};
use serenity::model::channel::Message;
use serenity::model::event::{Event, GatewayEvent};
use support::spec;
use support::*;

const WAIT: Duration = Duration::from_secs(10);

fn alice() -> FakeUser {
    FakeUser::member(910_000_000_000_000_001, "Alice")
}

fn parse(sent: &Sent) -> Interaction {
    serde_json::from_value(sent.payload.clone())
        .unwrap_or_else(|e| panic!("serenity cannot parse {}: {e}", sent.payload))
}

/// The frame `dispatch` sends must survive serenity's whole gateway parse, not just the `d`.
fn parse_dispatch(sent: &Sent) -> Event {
    let text = frame(0, Some("INTERACTION_CREATE"), Some(7), sent.payload.clone());
    match serde_json::from_str::<GatewayEvent>(&text) {
        Ok(GatewayEvent::Dispatch(7, event)) => event,
        other => panic!("gateway frame did not parse as a dispatch: {other:?}"),
    }
}

#[tokio::test]
async fn payload_builders_parse_as_serenity_interactions() {
    let fake = FakeDiscord::start().await;
    let bob = FakeUser::moderator(910_000_000_000_000_002, "Bob")
        .locale("en-GB")
        .with_role(920_000_000_000_000_001);

    let sent = fake.command_payload(
        &bob,
        Some(CHANNEL_ID),
        "round start",
        &[
            ("title", json!("Wonen")),
            ("minutes", json!(15)),
            ("public", json!(true)),
            ("weight", json!(0.5)),
        ],
    );
    assert!(matches!(parse_dispatch(&sent), Event::InteractionCreate(_)));
    let Interaction::Command(cmd) = parse(&sent) else {
        panic!("not a command")
    };
    assert_eq!(cmd.data.name, "round");
    assert_eq!(cmd.guild_id.map(|g| g.get()), Some(GUILD_ID));
    assert_eq!(cmd.channel_id.get(), CHANNEL_ID);
    assert_eq!(cmd.user.id.get(), bob.id);
    assert_eq!(cmd.locale, "en-GB");
    let member = cmd.member.as_ref().expect("member");
    assert_eq!(member.roles[0].get(), 920_000_000_000_000_001);
    assert!(member.permissions.unwrap().manage_guild());
    assert_eq!(cmd.data.options[0].name, "start");
    let CommandDataOptionValue::SubCommand(opts) = &cmd.data.options[0].value else {
        panic!("no subcommand")
    };
    let values: Vec<_> = opts
        .iter()
        .map(|o| (o.name.as_str(), o.value.clone()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("title", CommandDataOptionValue::String("Wonen".into())),
            ("minutes", CommandDataOptionValue::Integer(15)),
            ("public", CommandDataOptionValue::Boolean(true)),
            ("weight", CommandDataOptionValue::Number(0.5)),
        ]
    );

    let group = fake.command_payload(&bob, Some(CHANNEL_ID), "admin library import", &[]);
    let Interaction::Command(cmd) = parse(&group) else {
        panic!("not a command")
    };
    assert_eq!(
        cmd.data.options[0].kind(),
        CommandOptionType::SubCommandGroup
    );

    let dm = fake.command_payload(&alice(), None, "help", &[]);
    let Interaction::Command(cmd) = parse(&dm) else {
        panic!("not a command")
    };
    assert!(cmd.guild_id.is_none() && cmd.member.is_none());
    assert_eq!(cmd.user.id.get(), alice().id);
    assert!(cmd.data.options.is_empty());

    for channel in [Some(CHANNEL_ID), None] {
        let click = fake.click_payload(&alice(), channel, "vote:42");
        assert!(matches!(
            parse_dispatch(&click),
            Event::InteractionCreate(_)
        ));
        let Interaction::Component(c) = parse(&click) else {
            panic!("not a component")
        };
        assert_eq!(c.data.custom_id, "vote:42");
        assert_eq!(c.user.id.get(), alice().id);
        assert_eq!(c.guild_id.is_some(), channel.is_some());

        let modal = fake.modal_payload(&alice(), channel, "idea", &[("title", "Meer groen")]);
        let Interaction::Modal(m) = parse(&modal) else {
            panic!("not a modal")
        };
        assert_eq!(m.data.custom_id, "idea");
        let ActionRowComponent::InputText(input) = &m.data.components[0].components[0] else {
            panic!("no text input")
        };
        assert_eq!(
            (input.custom_id.as_str(), input.value.as_deref()),
            ("title", Some("Meer groen"))
        );
    }
    fake.assert_clean();
}

#[tokio::test]
async fn fake_answers_parse_as_serenity_objects() {
    let fake = FakeDiscord::start().await;
    let ready = frame(0, Some("READY"), Some(1), fake.ready_payload("s"));
    let Ok(GatewayEvent::Dispatch(1, Event::Ready(r))) = serde_json::from_str(&ready) else {
        panic!("READY does not parse")
    };
    assert_eq!(r.ready.application.id.get(), APP_ID);
    let guild = frame(
        0,
        Some("GUILD_CREATE"),
        Some(2),
        fake.guild_create_payload(),
    );
    let Ok(GatewayEvent::Dispatch(2, Event::GuildCreate(g))) = serde_json::from_str(&guild) else {
        panic!("GUILD_CREATE does not parse")
    };
    assert!(g.guild.channels.contains_key(&CHANNEL_ID.into()));
    let resumed = frame(0, Some("RESUMED"), Some(3), json!({}));
    assert!(matches!(
        serde_json::from_str(&resumed),
        Ok(GatewayEvent::Dispatch(3, Event::Resumed(_)))
    ));

    let body = serde_json::to_value(
        CreateMessage::new()
            .content("hallo")
            .embed(
                CreateEmbed::new()
                    .title("t")
                    .description("d")
                    .field("n", "v", true)
                    .footer(CreateEmbedFooter::new("f")),
            )
            .button(CreateButton::new("b:1").label("Doe mee"))
            .allowed_mentions(CreateAllowedMentions::new()),
    )
    .unwrap();
    let msg: Message = serde_json::from_value(fake.message_for(CHANNEL_ID, &body, true))
        .expect("the fake's Message object must parse in serenity");
    assert_eq!(msg.content, "hallo");
    assert_eq!(msg.embeds[0].fields[0].value, "v");
    assert_eq!(msg.components[0].components.len(), 1);
    // The spec's response schema is the reference for what a Message carries.
    let errors = spec::validate(
        "MessageResponse",
        &fake.message_for(CHANNEL_ID, &body, false),
    );
    assert!(errors.is_empty(), "{errors:#?}");

    // serenity's own Http parses the REST answers, exactly as the bot would.
    let http = test_http(&fake);
    let app = http
        .get_current_application_info()
        .await
        .expect("application");
    assert_eq!(app.id.get(), APP_ID);
    assert_eq!(
        http.get_current_user().await.expect("bot user").id.get(),
        BOT_ID
    );
    assert_eq!(
        http.get_gateway().await.expect("gateway").url,
        fake.gateway_url()
    );
    assert_eq!(http.get_bot_gateway().await.expect("gateway/bot").shards, 1);
    let dm = http
        .create_private_channel(&json!({"recipient_id": "5"}))
        .await
        .expect("DM channel");
    assert_eq!(dm.recipient.id.get(), 5);
    let again = http
        .create_private_channel(&json!({"recipient_id": "5"}))
        .await
        .unwrap();
    assert_eq!(again.id, dm.id, "Discord keeps one DM channel per user");

    let commands = vec![CreateCommand::new("hulp")
        .description("Toon hulp")
        .default_member_permissions(Permissions::MANAGE_GUILD)];
    let echoed = http
        .create_global_commands(&commands)
        .await
        .expect("commands echo");
    assert_eq!(echoed[0].name, "hulp");
    assert_eq!(
        echoed[0].default_member_permissions,
        Some(Permissions::MANAGE_GUILD)
    );
    let (path, body) = fake.wait_commands(WAIT).await.unwrap();
    assert_eq!(path, format!("/api/v10/applications/{APP_ID}/commands"));
    assert_eq!(body[0]["name"], "hulp");
    fake.assert_clean();
}

fn test_http(fake: &FakeDiscord) -> serenity::http::Http {
    HttpBuilder::new("test-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(APP_ID.into())
        .build()
}

fn response_body(r: CreateInteractionResponse) -> Value {
    serde_json::to_value(r).unwrap()
}

fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

#[test]
fn validation_rejects_what_discord_rejects() {
    let ok = json!({"type": 4, "data": {"content": "x".repeat(2000), "allowed_mentions": {"parse": []}}});
    assert_eq!(
        spec::validate("CreateMessageInteractionCallbackRequest", &ok),
        Vec::<String>::new()
    );
    assert!(spec::check_message("/data", &ok["data"]).is_empty());

    let long = json!({"type": 4, "data": {"content": "é".repeat(2001), "allowed_mentions": {"parse": []}}});
    let errors = spec::validate("CreateMessageInteractionCallbackRequest", &long);
    assert!(
        errors.iter().any(|e| e.starts_with("/data/content:")),
        "{errors:#?}"
    );
    let errors = spec::check_message("/data", &long["data"]);
    assert!(
        errors.iter().any(|e| e.contains("2001 characters")),
        "{errors:#?}"
    );

    let loose = json!({"content": "hoi @everyone"});
    assert_eq!(spec::check_message("", &loose).len(), 1);
    let parsing = json!({"content": "hoi", "allowed_mentions": {"parse": ["users"]}});
    assert_eq!(spec::check_allowed_mentions("", &parsing).len(), 1);
    assert!(spec::check_allowed_mentions("", &json!({"components": []})).is_empty());

    let hulp = json!([{"name": "Hulp", "description": "Toon hulp", "type": 1}]);
    assert!(!spec::check_commands(&hulp).is_empty());
    assert!(
        spec::check_commands(&json!([{"name": "hulp", "description": "Toon hulp"}])).is_empty()
    );
    let localized =
        json!([{"name": "help", "description": "Help", "name_localizations": {"nl": "Help"}}]);
    assert!(!spec::check_commands(&localized).is_empty());
    assert!(!spec::is_valid_command_name("ronde start"));
    assert!(spec::is_valid_command_name("ronde-start_2"));
    let order = json!([{"name": "x", "description": "x", "options": [
        {"type": 3, "name": "a", "description": "a"},
        {"type": 3, "name": "b", "description": "b", "required": true}
    ]}]);
    assert!(!spec::check_commands(&order).is_empty());
    // Discord counts a command's size by each field's longest localization.
    let sized = |nl: usize| {
        let options: Vec<_> = (0..25)
            .map(|i| {
                json!({"type": 1, "name": format!("s{i}"), "description": "d",
                       "description_localizations": {"nl": "n".repeat(nl)}})
            })
            .collect();
        json!([{"name": "x", "description": "x", "options": options}])
    };
    assert!(spec::check_commands(&sized(100)).is_empty());
    assert!(
        spec::check_commands(&json!([{"name": "x", "description": "x",
            "options": (0..25).map(|i| json!({"type": 2, "name": format!("g{i}"), "description": "d",
                "options": (0..4).map(|j| json!({"type": 1, "name": format!("s{j}"), "description": "d",
                    "description_localizations": {"nl": "n".repeat(90)}})).collect::<Vec<_>>()}))
                .collect::<Vec<_>>()}]))
            .iter()
            .any(|e| e.contains("characters over name, descriptions and choices")),
        "9,000 characters in Dutch descriptions are over the limit"
    );

    let embed = |n: usize| json!([{"title": "t".repeat(256), "description": "d".repeat(n - 256)}]);
    let at_limit = json!([
        {"title": "a".repeat(100), "description": "b".repeat(4000)},
        {"fields": [{"name": "n", "value": "v".repeat(1024)}], "footer": {"text": "f".repeat(875)}},
    ]);
    assert_eq!(spec::embed_total_chars(&at_limit), 6000);
    assert!(spec::check_embeds("/embeds", &at_limit).is_empty());
    assert_eq!(spec::embed_total_chars(&embed(4000)), 4000);
    let mut over = at_limit.clone();
    over[1]["footer"]["text"] = json!("f".repeat(876));
    let errors = spec::check_embeds("/embeds", &over);
    assert!(errors.iter().any(|e| e.contains("6001")), "{errors:#?}");

    let dup = json!({"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "a", "custom_id": "same"},
        {"type": 2, "style": 1, "label": "b", "custom_id": "same"}
    ]}]});
    assert!(!spec::check_message("", &dup).is_empty());
    let long_id = json!({"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "a", "custom_id": "x".repeat(101)}
    ]}]});
    assert!(!spec::check_message("", &long_id).is_empty());
    // Unions are drilled into, so the error names the real path.
    let bad_button = json!({"type": 4, "data": {"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "l".repeat(81), "custom_id": "a"}
    ]}]}});
    let errors = spec::validate("CreateMessageInteractionCallbackRequest", &bad_button);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/data/components/0/components/0/label:")),
        "{errors:#?}"
    );
    let errors = spec::discord_errors(&["/data/content: too long".to_string()]);
    assert_eq!(
        errors["data"]["content"]["_errors"][0]["message"],
        "too long"
    );
}

/// Whatever serenity's builders produce for the shapes the bot uses must pass, or the fake
/// would report serenity itself.
#[test]
fn serenity_builders_pass_validation() {
    let embed = CreateEmbed::new()
        .title("Ronde")
        .description("Beschrijving")
        .field("Vraag", "Antwoord", false)
        .footer(CreateEmbedFooter::new("voet"))
        .colour(0x2f_80_ed);
    let row = CreateActionRow::Buttons(vec![
        CreateButton::new("join:1").label("Doe mee"),
        CreateButton::new("leave:1")
            .label("Stop")
            .style(ButtonStyle::Danger),
        CreateButton::new_link("https://example.org").label("Meer"),
    ]);
    let message = CreateInteractionResponseMessage::new()
        .content("hallo")
        .embed(embed.clone())
        .components(vec![row.clone()])
        .ephemeral(true)
        .allowed_mentions(no_mentions())
        .add_file(CreateAttachment::bytes(b"x".to_vec(), "verslag.md"));
    let cases = [
        (
            "CreateMessageInteractionCallbackRequest",
            response_body(CreateInteractionResponse::Message(message.clone())),
        ),
        (
            "CreateMessageInteractionCallbackRequest",
            response_body(CreateInteractionResponse::Defer(
                CreateInteractionResponseMessage::new().ephemeral(true),
            )),
        ),
        (
            "UpdateMessageInteractionCallbackRequest",
            response_body(CreateInteractionResponse::Acknowledge),
        ),
        (
            "UpdateMessageInteractionCallbackRequest",
            response_body(CreateInteractionResponse::UpdateMessage(message)),
        ),
        (
            "ModalInteractionCallbackRequest",
            response_body(CreateInteractionResponse::Modal(
                CreateModal::new("idea", "Nieuw idee").components(vec![
                    CreateActionRow::InputText(
                        CreateInputText::new(InputTextStyle::Short, "Titel", "title")
                            .max_length(80),
                    ),
                    CreateActionRow::InputText(
                        CreateInputText::new(InputTextStyle::Paragraph, "Toelichting", "body")
                            .required(false),
                    ),
                ]),
            )),
        ),
        (
            "IncomingWebhookRequestPartial",
            serde_json::to_value(
                CreateInteractionResponseFollowup::new()
                    .content("c")
                    .embed(embed.clone())
                    .ephemeral(true)
                    .allowed_mentions(no_mentions()),
            )
            .unwrap(),
        ),
        (
            "IncomingWebhookUpdateRequestPartial",
            serde_json::to_value(
                EditInteractionResponse::new()
                    .content("c")
                    .embed(embed.clone())
                    .components(vec![row.clone()])
                    .allowed_mentions(no_mentions()),
            )
            .unwrap(),
        ),
        (
            "MessageCreateRequest",
            serde_json::to_value(
                CreateMessage::new()
                    .content("c")
                    .embed(embed)
                    .components(vec![row])
                    .allowed_mentions(no_mentions()),
            )
            .unwrap(),
        ),
    ];
    for (schema, body) in &cases {
        let errors = spec::validate(schema, body);
        assert!(
            errors.is_empty(),
            "{schema} rejects serenity's {body}: {errors:#?}"
        );
        let data = body
            .get("data")
            .filter(|_| body.get("type").is_some())
            .unwrap_or(body);
        let errors = if schema.starts_with("Modal") {
            spec::check_modal("/data", data)
        } else {
            spec::check_message("", data)
        };
        assert!(errors.is_empty(), "{schema}: {errors:#?}");
    }

    let commands = json!([
        CreateCommand::new("round")
            .description("Rondes")
            .name_localized("nl", "ronde")
            .description_localized("nl", "Rondes")
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "start", "Start een ronde")
                    .name_localized("nl", "start")
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::String, "title", "Titel")
                            .required(true)
                            .max_length(80),
                    )
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::Integer, "minutes", "Minuten")
                            .min_int_value(1)
                            .max_int_value(120),
                    )
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::String, "kind", "Soort")
                            .add_string_choice("Open", "open")
                            .add_string_choice_localized(
                                "Besloten",
                                "closed",
                                [("nl", "Besloten")]
                            ),
                    ),
            ),
        CreateCommand::new("help").description("Help"),
    ]);
    let errors = spec::validate_array("ApplicationCommandUpdateRequest", &commands, 100);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(spec::check_commands(&commands).is_empty());
}

struct Handler;

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let result = match interaction {
            Interaction::Command(cmd) => match cmd.data.name.as_str() {
                "slow" => {
                    let defer = CreateInteractionResponseMessage::new().ephemeral(true);
                    cmd.create_response(&ctx, CreateInteractionResponse::Defer(defer))
                        .await
                        .and(
                            cmd.edit_response(
                                &ctx,
                                EditInteractionResponse::new()
                                    .content("klaar")
                                    .new_attachment(CreateAttachment::bytes(
                                        b"hallo".to_vec(),
                                        "verslag.txt",
                                    ))
                                    .allowed_mentions(no_mentions()),
                            )
                            .await
                            .map(drop),
                        )
                }
                "menu" => {
                    let msg = CreateInteractionResponseMessage::new()
                        .content("Kies")
                        .button(CreateButton::new("join:1").label("Doe mee"))
                        .allowed_mentions(no_mentions());
                    cmd.create_response(&ctx, CreateInteractionResponse::Message(msg))
                        .await
                }
                "form" => {
                    let modal = CreateModal::new("idea", "Nieuw idee").components(vec![
                        CreateActionRow::InputText(CreateInputText::new(
                            InputTextStyle::Short,
                            "Titel",
                            "title",
                        )),
                        CreateActionRow::InputText(
                            CreateInputText::new(InputTextStyle::Paragraph, "Toelichting", "body")
                                .required(false),
                        ),
                    ]);
                    cmd.create_response(&ctx, CreateInteractionResponse::Modal(modal))
                        .await
                }
                "announce" => {
                    let post = CreateMessage::new()
                        .content("aankondiging")
                        .allowed_mentions(no_mentions());
                    let posted = cmd.channel_id.send_message(&ctx, post).await.map(drop);
                    let msg = CreateInteractionResponseMessage::new()
                        .content("geplaatst")
                        .allowed_mentions(no_mentions());
                    let answered = cmd
                        .create_response(&ctx, CreateInteractionResponse::Message(msg))
                        .await;
                    let more = CreateInteractionResponseFollowup::new()
                        .content("nog iets")
                        .allowed_mentions(no_mentions());
                    posted
                        .and(answered)
                        .and(cmd.create_followup(&ctx, more).await.map(drop))
                }
                "dm" => {
                    let dm = CreateMessage::new()
                        .content("privé")
                        .allowed_mentions(no_mentions());
                    let sent = cmd.user.direct_message(&ctx, dm).await.map(drop);
                    let msg = CreateInteractionResponseMessage::new()
                        .content("verstuurd")
                        .ephemeral(true)
                        .allowed_mentions(no_mentions());
                    sent.and(
                        cmd.create_response(&ctx, CreateInteractionResponse::Message(msg))
                            .await,
                    )
                }
                _ => {
                    let msg = CreateInteractionResponseMessage::new()
                        .content("pong")
                        .allowed_mentions(no_mentions());
                    cmd.create_response(&ctx, CreateInteractionResponse::Message(msg))
                        .await
                }
            },
            Interaction::Component(c) => {
                let msg = CreateInteractionResponseMessage::new()
                    .content(format!(
                        "aangemeld via {}: {}",
                        c.data.custom_id, c.message.content
                    ))
                    .components(vec![])
                    .allowed_mentions(no_mentions());
                c.create_response(&ctx, CreateInteractionResponse::UpdateMessage(msg))
                    .await
            }
            Interaction::Modal(m) => {
                let values: Vec<String> = m
                    .data
                    .components
                    .iter()
                    .flat_map(|row| &row.components)
                    .filter_map(|c| match c {
                        ActionRowComponent::InputText(t) => Some(format!(
                            "{}={}",
                            t.custom_id,
                            t.value.clone().unwrap_or_default()
                        )),
                        _ => None,
                    })
                    .collect();
                let msg = CreateInteractionResponseMessage::new()
                    .content(values.join(", "))
                    .allowed_mentions(no_mentions());
                m.create_response(&ctx, CreateInteractionResponse::Message(msg))
                    .await
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("test handler failed: {e}");
        }
    }
}

async fn start_bot(fake: &FakeDiscord) -> tokio::task::JoinHandle<()> {
    let http = HttpBuilder::new("test-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(Handler)
        .await
        .expect("client");
    let task = tokio::spawn(async move {
        let _ = client.start().await;
    });
    fake.wait_ready(WAIT).await.expect("bot connects");
    task
}

#[tokio::test]
async fn serenity_client_answers_a_slash_command() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    assert_eq!(fake.identify_token().as_deref(), Some("Bot test-token"));
    assert_eq!(fake.identify_intents(), Some(GatewayIntents::GUILDS.bits()));

    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    let r = fake.response(&sent, WAIT).await.expect("answered");
    assert_eq!(r.callback_type, 4);
    assert_eq!(r.text(), "pong");
    assert!(!r.is_ephemeral());
    assert!(r.followups.is_empty());
    assert_eq!(fake.callbacks_for(&sent).len(), 1);
    fake.assert_clean();
    bot.abort();
}

#[tokio::test]
async fn deferral_attachment_click_and_dm() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;

    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "slow", &[]).await;
    let r = fake.response(&sent, WAIT).await.expect("answered");
    assert_eq!(r.callback_type, 5);
    assert!(r.is_ephemeral());
    assert_eq!(r.followups.len(), 1);
    assert!(r.followups[0].path.ends_with("/messages/@original"));
    assert_eq!(
        r.followups[0].files,
        vec![("verslag.txt".to_string(), b"hallo".to_vec())]
    );
    assert_eq!(r.text(), "klaar");

    let sent = fake.slash(&alice(), None, "menu", &[]).await;
    let r = fake.response(&sent, WAIT).await.expect("menu");
    assert_eq!(r.custom_ids(), vec!["join:1"]);
    let id = r.button("mee").expect("button");
    let click = fake.click(&alice(), None, &id).await;
    let r = fake.response(&click, WAIT).await.expect("click answered");
    assert_eq!(r.callback_type, 7);
    // The clicked message came back to the bot with its real content.
    assert_eq!(r.text(), "aangemeld via join:1: Kies");

    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "dm", &[]).await;
    let r = fake.response(&sent, WAIT).await.expect("dm answered");
    assert_eq!(r.text(), "verstuurd");
    let dms = fake.direct_messages(alice().id);
    assert_eq!(dms.len(), 1);
    assert_eq!(dms[0].body.as_ref().unwrap()["content"], "privé");
    assert!(fake.channel_messages(CHANNEL_ID).is_empty());
    fake.assert_clean();
    bot.abort();
}

#[tokio::test]
async fn replayed_delivery_is_reported() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    fake.response(&sent, WAIT).await.expect("answered");
    fake.dispatch(&sent).await;
    let deadline = std::time::Instant::now() + WAIT;
    while fake.callbacks_for(&sent).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // This handler does not deduplicate, so Discord's 40060 must show up as a violation.
    assert_eq!(fake.callbacks_for(&sent).len(), 2);
    let v = fake.violations();
    assert!(
        v.len() == 1 && v[0].contains("interaction already acknowledged"),
        "{v:#?}"
    );
    bot.abort();
}

#[tokio::test]
async fn dropped_gateway_is_resumed() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    fake.drop_gateway().await;
    fake.wait_ready(WAIT).await.expect("bot reconnects");
    assert_eq!(
        fake.session_counts(),
        (1, 1),
        "serenity resumes the session"
    );
    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    assert_eq!(
        fake.response(&sent, WAIT).await.expect("answered").text(),
        "pong"
    );
    fake.assert_clean();
    bot.abort();
}

#[tokio::test]
async fn rejected_bodies_get_discords_error() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    let http = test_http(&fake);
    // Missing allowed_mentions: serenity sends it, Discord would accept it, the project forbids it.
    let err = serenity::model::id::ChannelId::new(CHANNEL_ID)
        .send_message(&http, CreateMessage::new().content("hoi"))
        .await
        .expect_err("rejected");
    assert!(err.to_string().contains("Invalid Form Body"), "{err}");
    let v = fake.violations();
    assert!(v.len() == 1 && v[0].contains("allowed_mentions"), "{v:#?}");
    let unknown = serenity::model::id::ChannelId::new(CHANNEL_ID)
        .broadcast_typing(&http)
        .await;
    assert!(unknown.is_err());
    assert!(fake.violations()[1].starts_with("unexpected route POST /api/v10/channels/"));
    bot.abort();
}

#[tokio::test]
async fn modal_followup_and_channel_message() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;

    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "form", &[]).await;
    let r = fake.response(&sent, WAIT).await.expect("modal");
    assert_eq!(r.callback_type, 9);
    assert_eq!(r.custom_ids(), vec!["idea", "title", "body"]);
    assert!(r.text().contains("Nieuw idee") && r.text().contains("Toelichting"));
    // Discord's client sends every text input of the modal, the untouched ones empty.
    let submit = fake
        .submit(
            &alice(),
            Some(CHANNEL_ID),
            "idea",
            &[("title", "Meer groen")],
        )
        .await;
    let r = fake.response(&submit, WAIT).await.expect("submit answered");
    assert_eq!(r.text(), "title=Meer groen, body=");

    let sent = fake
        .slash(&alice(), Some(CHANNEL_ID), "announce", &[])
        .await;
    let r = fake.response(&sent, WAIT).await.expect("announce answered");
    assert_eq!(r.text(), "geplaatst\nnog iets");
    assert_eq!(r.followups.len(), 1);
    assert_eq!(r.followups[0].method, "POST");
    let posted = fake.channel_messages(CHANNEL_ID);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body.as_ref().unwrap()["content"], "aankondiging");
    fake.assert_clean();

    // A required field left empty cannot be submitted in Discord's client.
    fake.modal_payload(&alice(), Some(CHANNEL_ID), "idea", &[("body", "x")]);
    let v = fake.violations();
    assert!(v.len() == 1 && v[0].contains("\"title\""), "{v:#?}");
    bot.abort();
}

#[tokio::test]
async fn late_callbacks_are_unknown_interactions() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    fake.set_callback_deadline(Duration::ZERO);
    let sent = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    let deadline = std::time::Instant::now() + WAIT;
    while fake.callbacks_for(&sent).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = fake
        .response(&sent, Duration::from_millis(300))
        .await
        .expect_err("a late callback is not accepted");
    assert!(err.contains("callbacks received: 1"), "{err}");
    let v = fake.violations();
    assert!(v.len() == 1 && v[0].contains("10062"), "{v:#?}");
    bot.abort();
}

/// (user, command path, options, expected violation)
type Case<'a> = (&'a FakeUser, &'a str, Vec<(&'a str, Value)>, &'a str);

#[tokio::test]
async fn payloads_respect_the_registered_commands() {
    let fake = FakeDiscord::start().await;
    let commands = vec![
        CreateCommand::new("round")
            .description("Rondes")
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "start", "Start")
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::String, "step", "Stap")
                            .required(true)
                            .add_string_choice("1", "1")
                            .add_string_choice("2", "2"),
                    )
                    .add_sub_option(CreateCommandOption::new(
                        CommandOptionType::User,
                        "who",
                        "Wie",
                    )),
            ),
        CreateCommand::new("help").description("Hulp"),
    ];
    test_http(&fake)
        .create_global_commands(&commands)
        .await
        .expect("registered");
    let mira = FakeUser::moderator(2, "Mira");

    let ok = fake.command_payload(
        &mira,
        Some(CHANNEL_ID),
        "round start",
        &[("step", json!("1")), ("who", json!("5"))],
    );
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());
    // The option type comes from the registration, so a user option arrives as type 6.
    assert_eq!(ok.payload["data"]["options"][0]["options"][1]["type"], 6);
    assert!(matches!(parse(&ok), Interaction::Command(_)));
    fake.command_payload(&alice(), None, "help", &[]);
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());

    let alice = alice();
    let cases: [Case; 5] = [
        (&mira, "hulp", vec![], "no such command"),
        (
            &alice,
            "round start",
            vec![("step", json!("1"))],
            "lacks default_member_permissions",
        ),
        (
            &mira,
            "round start",
            vec![],
            "required option \"step\" missing",
        ),
        (
            &mira,
            "round start",
            vec![("step", json!("9"))],
            "not one of its choices",
        ),
        (&mira, "round", vec![], "has subcommands"),
    ];
    for (i, (user, command, options, expected)) in cases.iter().enumerate() {
        fake.command_payload(user, Some(CHANNEL_ID), command, options);
        let v = fake.violations();
        assert_eq!(v.len(), i + 1, "{command}: {v:#?}");
        assert!(v[i].contains(expected), "{command}: {v:#?}");
    }
    // An administrator lets a role use the command: its members may, the others still not.
    let role = 930_000_000_000_000_001;
    fake.allow_role("round", role);
    let before = fake.violations().len();
    fake.command_payload(
        &alice.clone().with_role(role),
        Some(CHANNEL_ID),
        "round start",
        &[("step", json!("1"))],
    );
    assert_eq!(fake.violations().len(), before, "{:#?}", fake.violations());
    fake.command_payload(
        &alice,
        Some(CHANNEL_ID),
        "round start",
        &[("step", json!("1"))],
    );
    assert_eq!(fake.violations().len(), before + 1);
}

/// One raw HTTP/1.1 request to the fake, so a test sees the headers serenity's errors drop.
async fn raw_post(fake: &FakeDiscord, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = fake.base_url().trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn injected_faults_look_like_discords() {
    let fake = FakeDiscord::start().await;
    let path = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    let body = r#"{"content":"hallo","allowed_mentions":{"parse":[]}}"#;
    fake.fail_next(
        "POST",
        "/api/v10/channels/*/messages",
        1,
        Fault::ServerError,
    );
    fake.fail_next(
        "POST",
        "/api/v10/channels/*/messages",
        1,
        Fault::RateLimited { retry_after: 0.3 },
    );
    let first = raw_post(&fake, &path, body).await;
    assert!(first.starts_with("HTTP/1.1 500"), "{first}");
    assert!(first.contains(r#""code":0"#), "{first}");
    let limited = raw_post(&fake, &path, body).await.to_lowercase();
    assert!(limited.starts_with("http/1.1 429"), "{limited}");
    for header in [
        "retry-after: 1",
        "x-ratelimit-remaining: 0",
        "x-ratelimit-reset-after: 0.300",
        "x-ratelimit-scope: user",
    ] {
        assert!(limited.contains(header), "{header} in {limited}");
    }
    assert!(limited.contains(r#""global":false"#) && limited.contains(r#""retry_after":0.3"#));
    assert!(
        fake.posted(CHANNEL_ID).is_empty(),
        "a failed request has no effect"
    );
    // Coming back before retry_after is what Discord punishes.
    let early = raw_post(&fake, &path, body).await;
    assert!(early.starts_with("HTTP/1.1 429"), "{early}");
    assert_eq!(fake.violations().len(), 1, "{:?}", fake.violations());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let ok = raw_post(&fake, &path, body).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(fake.posted(CHANNEL_ID).len(), 1);
    // An injected fault still checks the body.
    fake.fail_next(
        "POST",
        "/api/v10/channels/*/messages",
        1,
        Fault::ServerError,
    );
    let bad = raw_post(&fake, &path, r#"{"content":"@everyone"}"#).await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert_eq!(fake.injected().len(), 2);
}

#[tokio::test]
async fn invalid_sessions_and_missed_events() {
    let fake = FakeDiscord::start().await;
    let bot = start_bot(&fake).await;
    // Resumable: the event sent meanwhile waits and is replayed on RESUME.
    fake.invalidate_session(true);
    let waiting = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    let r = fake
        .response(&waiting, WAIT)
        .await
        .expect("answered after the resume");
    assert_eq!(r.text(), "pong");
    assert_eq!(fake.gateway_stats().resumed, 1);
    // A drop: events missed are replayed, and with an overlap a seen one comes again.
    fake.replay_seen_on_next_resume(1);
    fake.drop_gateway().await;
    let missed = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    fake.response(&missed, WAIT)
        .await
        .expect("answered after the resume");
    let stats = fake.gateway_stats();
    assert!(stats.replayed >= 1 && stats.replayed_seen == 1, "{stats:?}");
    // Not resumable: the session ends, an event meanwhile reaches no one, the bot identifies.
    fake.invalidate_session(false);
    let lost = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    assert!(fake.lost(&lost) && !fake.delivered(&lost));
    fake.wait_ready(WAIT).await.expect("a new session");
    assert_eq!(fake.gateway_stats().ready, 2);
    let after = fake.slash(&alice(), Some(CHANNEL_ID), "ping", &[]).await;
    fake.response(&after, WAIT)
        .await
        .expect("answered in the new session");
    assert!(fake.callbacks_for(&lost).is_empty());
    bot.abort();
}

#[tokio::test]
async fn scheduled_events_are_checked_as_discord_checks_them() {
    use serenity::all::{CreateScheduledEvent, GuildId, ScheduledEventType};
    let fake = FakeDiscord::start().await;
    let http = test_http(&fake);
    let guild = GuildId::new(GUILD_ID);
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let end = start + chrono::Duration::hours(2);
    let made = guild
        .create_scheduled_event(
            &http,
            CreateScheduledEvent::new(ScheduledEventType::External, "Bijeenkomst", start)
                .location("Stadhuis")
                .end_time(end)
                .description("Agenda"),
        )
        .await
        .expect("a valid external event is made, and its answer parses");
    assert_eq!(made.name, "Bijeenkomst");
    let voice = guild
        .create_scheduled_event(
            &http,
            CreateScheduledEvent::new(ScheduledEventType::Voice, "Online", start)
                .channel_id(serenity::all::ChannelId::new(VOICE_ID)),
        )
        .await
        .expect("a voice event in a voice channel is made");
    assert_eq!(voice.channel_id.map(|c| c.get()), Some(VOICE_ID));
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());

    let refused = [
        // An external event needs a place and an end.
        CreateScheduledEvent::new(ScheduledEventType::External, "Nergens", start),
        // A voice event happens in a voice channel, not a text channel.
        CreateScheduledEvent::new(ScheduledEventType::Voice, "Tekst", start)
            .channel_id(serenity::all::ChannelId::new(CHANNEL_ID)),
        // Not in the past, and not ending before it starts.
        CreateScheduledEvent::new(
            ScheduledEventType::External,
            "Gisteren",
            chrono::Utc::now() - chrono::Duration::days(1),
        )
        .location("Stadhuis")
        .end_time(end),
        CreateScheduledEvent::new(ScheduledEventType::External, "Omgekeerd", end)
            .location("Stadhuis")
            .end_time(start),
        // The spec's own limits: a location of at most 100 characters.
        CreateScheduledEvent::new(ScheduledEventType::External, "Lang", start)
            .location("x".repeat(101))
            .end_time(end),
    ];
    for event in refused {
        let before = fake.violations().len();
        let err = guild
            .create_scheduled_event(&http, event)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("Invalid Form Body"), "{err}");
        assert!(fake.violations().len() > before, "{:#?}", fake.violations());
    }
    assert_eq!(fake.scheduled_events().len(), 2);
}
