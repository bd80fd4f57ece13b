//! Checks what the bot sends against Discord's own OpenAPI spec and against the limits Discord
//! enforces that the spec does not encode, so a test fails where real Discord would answer 400.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::Validator;
use serde_json::{json, Value};

/// Discord's spec, committed in the repository (see its README for source and licence).
pub const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/discord-api-spec/openapi.json"
);

pub const MAX_CONTENT_CHARS: usize = 2000;
pub const MAX_EMBEDS: usize = 10;
pub const MAX_EMBED_TOTAL_CHARS: usize = 6000;
pub const MAX_EMBED_FIELDS: usize = 25;
pub const MAX_EMBED_DESCRIPTION_CHARS: usize = 4096;
pub const MAX_CUSTOM_ID_CHARS: usize = 100;
pub const MAX_CHOICES: usize = 25;
/// Discord's cap on name + description + option names/descriptions + choice names/values.
pub const MAX_COMMAND_TOTAL_CHARS: usize = 8000;
/// Message flag that switches a message to layout components; without it only action rows count.
pub const IS_COMPONENTS_V2: u64 = 1 << 15;

/// The spec's `components.schemas`, with the few places where the spec is stricter than Discord
/// itself patched, so that what serenity sends and Discord accepts is not reported.
fn schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("cannot read Discord's spec at {SPEC_PATH}: {e}"));
        let spec: Value = serde_json::from_str(&text).expect("Discord's spec is not JSON");
        let mut schemas = spec["components"]["schemas"].clone();
        patch_spec(&mut schemas);
        schemas
    })
}

fn patch_spec(schemas: &mut Value) {
    // serenity numbers new attachments 0, 1, … as JSON integers; Discord accepts them, the spec
    // only admits snowflake strings.
    if let Some(id) = schemas.pointer_mut("/MessageAttachmentRequest/properties/id") {
        *id = json!({"anyOf": [id.clone(), {"type": "integer", "minimum": 0}]});
    }
    // Discord documents permissions as strings and serenity sends them that way; the request
    // schemas say integer.
    if let Some(map) = schemas.as_object_mut() {
        for schema in map.values_mut() {
            if let Some(p) = schema.pointer_mut("/properties/default_member_permissions") {
                *p = json!({"anyOf": [p.clone(), {"type": "string", "pattern": "^[0-9]+$"}]});
            }
        }
    }
}

fn validator(name: &str) -> Result<Arc<Validator>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return Ok(v.clone());
    }
    if schemas().get(name).is_none() {
        return Err(format!("no schema named {name} in Discord's spec"));
    }
    // The refs in the spec are document-absolute (#/components/schemas/X), so the root must carry
    // the whole components section next to the $ref.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": {"schemas": schemas()},
    });
    let v = jsonschema::draft202012::options()
        .build(&root)
        .map_err(|e| format!("schema {name} does not compile: {e}"))?;
    let v = Arc::new(v);
    cache.lock().unwrap().insert(name.to_string(), v.clone());
    Ok(v)
}

/// Validates `body` against `#/components/schemas/<schema_name>`. Each error reads
/// `<instance path>: <message>`.
pub fn validate(schema_name: &str, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    validate_into(schema_name, body, "", 0, &mut out);
    out
}

/// Validates a JSON array whose items must each match `item_schema` (command registration).
pub fn validate_array(item_schema: &str, body: &Value, max_items: usize) -> Vec<String> {
    let Some(items) = body.as_array() else {
        return vec![format!("/: expected an array, got {}", short(body))];
    };
    let mut out = Vec::new();
    if items.len() > max_items {
        out.push(format!(
            "/: {} items, at most {max_items} allowed",
            items.len()
        ));
    }
    for (i, item) in items.iter().enumerate() {
        validate_into(item_schema, item, &format!("/{i}"), 0, &mut out);
    }
    out
}

fn validate_into(name: &str, body: &Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
    let v = match validator(name) {
        Ok(v) => v,
        Err(e) => {
            out.push(e);
            return;
        }
    };
    for e in v.iter_errors(body) {
        let path = format!("{prefix}{}", e.instance_path);
        // A failed union only says "not valid under any of the schemas"; Discord's unions are
        // told apart by null-ness or by a `type` enum, so pick the branch that was meant and
        // report its errors instead.
        if matches!(
            e.kind,
            ValidationErrorKind::OneOfNotValid | ValidationErrorKind::AnyOf
        ) && depth < 12
        {
            if let Some(branch) = intended_branch(name, e.schema_path.as_str(), &e.instance) {
                match branch {
                    Branch::Named(b) => {
                        let before = out.len();
                        validate_into(&b, &e.instance, &path, depth + 1, out);
                        if out.len() > before {
                            continue;
                        }
                    }
                    Branch::NoneFor(t) => {
                        out.push(format!(
                            "{}: no variant of this union has type {t}",
                            show_path(&path)
                        ));
                        continue;
                    }
                }
            }
        }
        out.push(format!(
            "{}: {}",
            show_path(&path),
            short_msg(&e.to_string())
        ));
    }
}

enum Branch {
    Named(String),
    NoneFor(Value),
}

/// Follows a jsonschema schema path (where a `$ref` segment means "jump to the referenced
/// schema") from the named schema to a oneOf/anyOf array and picks the branch meant for
/// `instance`.
fn intended_branch(name: &str, schema_path: &str, instance: &Value) -> Option<Branch> {
    let mut node = schemas().get(name)?;
    let mut segments: Vec<String> = schema_path
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    // The root wrapper's own $ref is the first segment.
    if segments.first().map(String::as_str) == Some("$ref") {
        segments.remove(0);
    }
    let last = segments.pop()?;
    if last != "oneOf" && last != "anyOf" {
        return None;
    }
    for seg in &segments {
        node = if seg == "$ref" {
            resolve_ref(node)?
        } else if let Ok(i) = seg.parse::<usize>() {
            node.get(i).or_else(|| node.get(seg.as_str()))?
        } else {
            node.get(seg.as_str())?
        };
    }
    let branches = node.get(last.as_str())?.as_array()?;
    let named: Vec<&str> = branches
        .iter()
        .filter_map(|b| {
            b.get("$ref")?
                .as_str()?
                .strip_prefix("#/components/schemas/")
        })
        .collect();
    if instance.is_null() || named.is_empty() {
        return None;
    }
    if named.len() == 1 {
        return Some(Branch::Named(named[0].to_string()));
    }
    let t = instance.get("type")?;
    let matching: Vec<&str> = named
        .iter()
        .copied()
        .filter(|n| {
            schemas()
                .get(*n)
                .and_then(|s| s.pointer("/properties/type/enum"))
                .and_then(Value::as_array)
                .is_some_and(|e| e.contains(t))
        })
        .collect();
    match matching.as_slice() {
        [one] => Some(Branch::Named(one.to_string())),
        [] => Some(Branch::NoneFor(t.clone())),
        _ => None,
    }
}

fn resolve_ref(node: &Value) -> Option<&'static Value> {
    let r = node.get("$ref")?.as_str()?;
    schemas().get(r.strip_prefix("#/components/schemas/")?)
}

fn show_path(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

fn short_msg(s: &str) -> String {
    if s.chars().count() > 300 {
        let head: String = s.chars().take(300).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

fn short(v: &Value) -> String {
    short_msg(&v.to_string())
}

/// Discord counts characters (code points), not bytes.
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The characters Discord counts towards the 6000 limit over all embeds of one message.
pub fn embed_total_chars(embeds: &Value) -> usize {
    let Some(embeds) = embeds.as_array() else {
        return 0;
    };
    embeds
        .iter()
        .map(|e| {
            let fields: usize = e["fields"].as_array().map_or(0, |fs| {
                fs.iter()
                    .map(|f| chars(str_at(f, "/name")) + chars(str_at(f, "/value")))
                    .sum()
            });
            chars(str_at(e, "/title"))
                + chars(str_at(e, "/description"))
                + chars(str_at(e, "/footer/text"))
                + chars(str_at(e, "/author/name"))
                + fields
        })
        .sum()
}

/// Embed limits: count, total characters, fields per embed and per-part lengths.
pub fn check_embeds(path: &str, embeds: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(list) = embeds.as_array() else {
        return out;
    };
    if list.len() > MAX_EMBEDS {
        out.push(format!(
            "{path}: {} embeds, at most {MAX_EMBEDS}",
            list.len()
        ));
    }
    let total = embed_total_chars(embeds);
    if total > MAX_EMBED_TOTAL_CHARS {
        out.push(format!(
            "{path}: embeds total {total} characters, at most {MAX_EMBED_TOTAL_CHARS}"
        ));
    }
    for (i, e) in list.iter().enumerate() {
        let p = format!("{path}/{i}");
        let limits = [
            ("/title", 256),
            ("/description", MAX_EMBED_DESCRIPTION_CHARS),
            ("/footer/text", 2048),
            ("/author/name", 256),
        ];
        for (ptr, max) in limits {
            let n = chars(str_at(e, ptr));
            if n > max {
                out.push(format!("{p}{ptr}: {n} characters, at most {max}"));
            }
        }
        if let Some(fields) = e["fields"].as_array() {
            if fields.len() > MAX_EMBED_FIELDS {
                out.push(format!(
                    "{p}/fields: {} fields, at most {MAX_EMBED_FIELDS}",
                    fields.len()
                ));
            }
            for (j, f) in fields.iter().enumerate() {
                for (key, min, max) in [("name", 1, 256), ("value", 1, 1024)] {
                    let n = chars(str_at(f, &format!("/{key}")));
                    if n < min || n > max {
                        out.push(format!(
                            "{p}/fields/{j}/{key}: {n} characters, must be {min}..={max}"
                        ));
                    }
                }
            }
        }
        if e.get("title").is_none()
            && e.get("description").is_none()
            && e.get("fields")
                .is_none_or(|f| f.as_array().is_none_or(Vec::is_empty))
            && e.get("image").is_none()
            && e.get("thumbnail").is_none()
            && e.get("author").is_none()
            && e.get("footer").is_none()
        {
            out.push(format!("{p}: empty embed (Discord rejects it)"));
        }
    }
    out
}

/// The bot always sends user-written text, so every message must switch off mention parsing.
pub fn check_allowed_mentions(path: &str, body: &Value) -> Vec<String> {
    let has_text = body.get("content").is_some_and(|c| !c.is_null())
        || body
            .get("embeds")
            .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()));
    if !has_text {
        return Vec::new();
    }
    match body.pointer("/allowed_mentions/parse") {
        Some(Value::Array(a)) if a.is_empty() => Vec::new(),
        Some(other) => vec![format!(
            "{path}/allowed_mentions/parse: is {other}, must be [] (the bot sends user text)"
        )],
        None => vec![format!(
            "{path}: content/embeds without allowed_mentions {{\"parse\": []}} (the bot sends user text)"
        )],
    }
}

fn walk_components<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    if let Some(list) = v.as_array() {
        for (i, c) in list.iter().enumerate() {
            walk_component(c, format!("{path}/{i}"), out);
        }
    }
}

fn walk_component<'a>(c: &'a Value, p: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((p.clone(), c));
    if let Some(children) = c.get("components") {
        walk_components(children, format!("{p}/components"), out);
    }
    // Layout components (labels, sections) hold a single child instead of a list.
    for key in ["component", "accessory"] {
        if let Some(child) = c.get(key) {
            walk_component(child, format!("{p}/{key}"), out);
        }
    }
}

/// Component rules for a message: custom_id length and uniqueness, button shape, and the
/// five-action-row limit of classic (non-layout) messages.
pub fn check_components(path: &str, components: &Value, flags: u64) -> Vec<String> {
    let mut out = Vec::new();
    let Some(rows) = components.as_array() else {
        return out;
    };
    if flags & IS_COMPONENTS_V2 == 0 {
        if rows.len() > 5 {
            out.push(format!("{path}: {} action rows, at most 5", rows.len()));
        }
        for (i, r) in rows.iter().enumerate() {
            if r["type"] != 1 {
                out.push(format!(
                    "{path}/{i}: top-level component of type {} needs the IS_COMPONENTS_V2 flag",
                    r["type"]
                ));
            }
        }
    }
    let mut all = Vec::new();
    walk_components(components, path.to_string(), &mut all);
    out.extend(check_custom_ids(&all));
    for (p, c) in &all {
        if c["type"] == 2 {
            let link = c["style"] == 5;
            let premium = c["style"] == 6;
            if c.get("label").is_none_or(Value::is_null)
                && c.get("emoji").is_none_or(Value::is_null)
                && !premium
            {
                out.push(format!("{p}: button without label or emoji"));
            }
            let has_id = c.get("custom_id").is_some_and(|v| !v.is_null());
            let has_url = c.get("url").is_some_and(|v| !v.is_null());
            if link && (has_id || !has_url) {
                out.push(format!("{p}: link button needs url and no custom_id"));
            }
            if !link && !premium && (!has_id || has_url) {
                out.push(format!("{p}: non-link button needs custom_id and no url"));
            }
        }
    }
    out
}

fn check_custom_ids(all: &[(String, &Value)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (p, c) in all {
        if let Some(id) = c.get("custom_id").and_then(Value::as_str) {
            let n = chars(id);
            if n == 0 || n > MAX_CUSTOM_ID_CHARS {
                out.push(format!(
                    "{p}/custom_id: {n} characters, must be 1..={MAX_CUSTOM_ID_CHARS}"
                ));
            }
            if !seen.insert(id) {
                out.push(format!(
                    "{p}/custom_id: {id:?} is not unique in the message"
                ));
            }
        }
    }
    out
}

/// Every rule for a message body (callback data 4/7, follow-up, edit, channel message, DM).
pub fn check_message(path: &str, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(content) = body.get("content").and_then(Value::as_str) {
        let n = chars(content);
        if n > MAX_CONTENT_CHARS {
            out.push(format!(
                "{path}/content: {n} characters, at most {MAX_CONTENT_CHARS}"
            ));
        }
    }
    if let Some(embeds) = body.get("embeds") {
        out.extend(check_embeds(&format!("{path}/embeds"), embeds));
    }
    out.extend(check_allowed_mentions(path, body));
    if let Some(components) = body.get("components") {
        let flags = body.get("flags").and_then(Value::as_u64).unwrap_or(0);
        out.extend(check_components(
            &format!("{path}/components"),
            components,
            flags,
        ));
    }
    out
}

/// Modal rules the schema leaves out: unique custom_ids of 1..=100 characters, and a
/// text input's value must fit its own length bounds.
pub fn check_modal(path: &str, data: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(id) = data.get("custom_id").and_then(Value::as_str) {
        let n = chars(id);
        if n == 0 || n > MAX_CUSTOM_ID_CHARS {
            out.push(format!(
                "{path}/custom_id: {n} characters, must be 1..={MAX_CUSTOM_ID_CHARS}"
            ));
        }
    }
    let mut all = Vec::new();
    walk_components(
        data.get("components").unwrap_or(&Value::Null),
        format!("{path}/components"),
        &mut all,
    );
    out.extend(check_custom_ids(&all));
    for (p, c) in &all {
        if c["type"] == 4 {
            let value = c.get("value").and_then(Value::as_str).map(chars);
            let max = c.get("max_length").and_then(Value::as_u64);
            let min = c.get("min_length").and_then(Value::as_u64);
            if let (Some(v), Some(max)) = (value, max) {
                if v as u64 > max {
                    out.push(format!("{p}/value: {v} characters, max_length is {max}"));
                }
            }
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    out.push(format!("{p}: min_length {min} > max_length {max}"));
                }
            }
        }
    }
    out
}

/// Discord's rule for command and option names: 1..=32 of `-`, `_`, `'`, letters and digits,
/// and a letter that has a lowercase form must be lowercase.
pub fn is_valid_command_name(name: &str) -> bool {
    let n = chars(name);
    (1..=32).contains(&n)
        && name.chars().all(|c| {
            (c == '-' || c == '_' || c == '\'' || c.is_alphanumeric())
                && c.to_lowercase().eq(std::iter::once(c))
        })
}

fn check_names(path: &str, item: &Value, out: &mut Vec<String>) {
    let name = str_at(item, "/name");
    if !is_valid_command_name(name) {
        out.push(format!(
            "{path}/name: {name:?} is not a valid command name (lowercase, 1..=32, no spaces)"
        ));
    }
    if let Some(locs) = item.get("name_localizations").and_then(Value::as_object) {
        for (locale, v) in locs {
            let v = v.as_str().unwrap_or("");
            if !is_valid_command_name(v) {
                out.push(format!(
                    "{path}/name_localizations/{locale}: {v:?} is not a valid command name"
                ));
            }
        }
    }
}

fn check_description(path: &str, item: &Value, out: &mut Vec<String>) {
    let n = chars(str_at(item, "/description"));
    if !(1..=100).contains(&n) {
        out.push(format!(
            "{path}/description: {n} characters, must be 1..=100"
        ));
    }
    if let Some(locs) = item
        .get("description_localizations")
        .and_then(Value::as_object)
    {
        for (locale, v) in locs {
            let n = chars(v.as_str().unwrap_or(""));
            if !(1..=100).contains(&n) {
                out.push(format!(
                    "{path}/description_localizations/{locale}: {n} characters, must be 1..=100"
                ));
            }
        }
    }
}

fn command_chars(item: &Value) -> usize {
    // Discord counts, for each field, its longest localization (the default included).
    let longest = |field: &str| {
        let base = chars(str_at(item, &format!("/{field}")));
        item[format!("{field}_localizations")]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(Value::as_str)
            .map(chars)
            .fold(base, usize::max)
    };
    let mut n = longest("name") + longest("description");
    if let Some(choices) = item["choices"].as_array() {
        for c in choices {
            let name = c["name_localizations"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(Value::as_str)
                .map(chars)
                .fold(chars(str_at(c, "/name")), usize::max);
            n += name;
            n += match &c["value"] {
                Value::String(s) => chars(s),
                other => chars(&other.to_string()),
            };
        }
    }
    if let Some(opts) = item["options"].as_array() {
        n += opts.iter().map(command_chars).sum::<usize>();
    }
    n
}

fn check_options(path: &str, options: &Value, out: &mut Vec<String>) {
    let Some(opts) = options.as_array() else {
        return;
    };
    if opts.len() > 25 {
        out.push(format!("{path}: {} options, at most 25", opts.len()));
    }
    let mut names = HashSet::new();
    let mut seen_optional = false;
    for (i, o) in opts.iter().enumerate() {
        let p = format!("{path}/{i}");
        check_names(&p, o, out);
        check_description(&p, o, out);
        let name = str_at(o, "/name");
        if !names.insert(name) {
            out.push(format!("{p}/name: duplicate option name {name:?}"));
        }
        let kind = o["type"].as_u64().unwrap_or(0);
        if kind == 1 || kind == 2 {
            check_options(&format!("{p}/options"), &o["options"], out);
            continue;
        }
        let required = o["required"].as_bool().unwrap_or(false);
        if required && seen_optional {
            out.push(format!(
                "{p}: required option {name:?} after an optional one (Discord requires required options first)"
            ));
        }
        seen_optional |= !required;
        if let Some(choices) = o["choices"].as_array() {
            if choices.len() > MAX_CHOICES {
                out.push(format!(
                    "{p}/choices: {} choices, at most {MAX_CHOICES}",
                    choices.len()
                ));
            }
            for (j, c) in choices.iter().enumerate() {
                let n = chars(str_at(c, "/name"));
                if !(1..=100).contains(&n) {
                    out.push(format!(
                        "{p}/choices/{j}/name: {n} characters, must be 1..=100"
                    ));
                }
            }
        }
    }
}

/// Rules for a command registration array (PUT …/commands) the spec does not encode: name
/// pattern, description length, choices, option order, uniqueness and the 8000-character total.
pub fn check_commands(commands: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(list) = commands.as_array() else {
        return out;
    };
    let mut names = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let p = format!("/{i}");
        let kind = c["type"].as_u64().unwrap_or(1);
        if kind == 1 {
            check_names(&p, c, &mut out);
            check_description(&p, c, &mut out);
            check_options(&format!("{p}/options"), &c["options"], &mut out);
            let total = command_chars(c);
            if total > MAX_COMMAND_TOTAL_CHARS {
                out.push(format!(
                    "{p}: {total} characters over name, descriptions and choices, at most {MAX_COMMAND_TOTAL_CHARS}"
                ));
            }
        }
        let name = str_at(c, "/name");
        if !names.insert((kind, name)) {
            out.push(format!("{p}/name: duplicate command {name:?}"));
        }
    }
    out
}

/// Turns violation messages into Discord's nested `errors` object, so that serenity's error type
/// shows the same paths.
pub fn discord_errors(errors: &[String]) -> Value {
    let mut root = json!({});
    for e in errors {
        let (path, msg) = e.split_once(": ").unwrap_or(("/", e.as_str()));
        let mut node = &mut root;
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            if !node.is_object() {
                break;
            }
            node = node
                .as_object_mut()
                .unwrap()
                .entry(seg.to_string())
                .or_insert_with(|| json!({}));
        }
        if let Some(obj) = node.as_object_mut() {
            let list = obj.entry("_errors").or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(json!({"code": "INVALID_FORM_BODY", "message": msg}));
            }
        }
    }
    root
}
