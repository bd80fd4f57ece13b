//! A reproducible corpus of lessons for benchmarks: the same seed gives the same lessons on
//! every machine and in every release, so figures from different runs measure the same data.
//!
//! The lessons look like the academy's own: Dutch (most) and English texts about public-sector
//! collaboration, some with a translation, in all three learning orders, with steps,
//! perspectives, tags and channels, spread over years, mostly approved, a few featured. Words
//! follow a Zipf-like distribution, so a search meets both very common and rare words.
//!
//! The generator draws from ChaCha8 (`rand_chacha`), whose output is fixed by its algorithm
//! rather than by a crate version (unlike `rand`'s `StdRng`); both crates were already in the
//! dependency tree, so the benches add no new code to build.

use academie::domain::*;
use academie::search;
use academie::store::{Batch, Store, Tree};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Lessons per committed batch when loading: few commits, while one batch stays a few
/// megabytes (sled holds a transaction's every write in memory).
const BATCH_LESSONS: usize = 1_000;

/// Dutch words, most common first: a word's rank sets its frequency.
const NL_WORDS: &[&str] = &[
    "de",
    "het",
    "een",
    "en",
    "van",
    "in",
    "we",
    "met",
    "voor",
    "op",
    "niet",
    "dat",
    "aan",
    "samenwerking",
    "gemeente",
    "opgave",
    "regio",
    "tafel",
    "partners",
    "provincie",
    "rijk",
    "afspraken",
    "rol",
    "overleg",
    "bestuurders",
    "vertrouwen",
    "mandaat",
    "waterschap",
    "ambtenaren",
    "netwerk",
    "inwoners",
    "besluit",
    "programma",
    "organisatie",
    "ministerie",
    "doelen",
    "kennis",
    "middelen",
    "tijd",
    "gesprek",
    "verschillen",
    "belangen",
    "woningbouw",
    "energietransitie",
    "leren",
    "terugkoppelen",
    "agenda",
    "regiodeal",
    "samenwerken",
    "samenwerkingsverband",
    "opdrachtgever",
    "proces",
    "uitvoering",
    "beleid",
    "raad",
    "wethouder",
    "gedeputeerde",
    "coalitie",
    "verantwoording",
    "financiering",
    "subsidie",
    "planning",
    "mijlpaal",
    "evaluatie",
    "lessen",
    "ervaring",
    "ruimte",
    "stikstof",
    "zorg",
    "jeugdzorg",
    "arbeidsmarkt",
    "bereikbaarheid",
    "klimaatadaptatie",
    "droogte",
    "bodem",
    "landbouw",
    "natuur",
    "leefbaarheid",
    "dorpen",
    "wijken",
    "bewoners",
    "ondernemers",
    "maatschappelijke",
    "coöperatief",
    "coördinatie",
    "kwartiermaker",
    "procesregisseur",
    "verbinding",
    "eigenaarschap",
    "escalatie",
    "conflict",
    "spanning",
    "compromis",
    "legitimiteit",
    "democratie",
    "toezicht",
    "rechtmatig",
    "presterend",
    "netwerkend",
    "participerend",
    "sturing",
    "horizontaal",
    "verticaal",
    "bovenregionaal",
    "lokaal",
    "landelijk",
    "europees",
    "wetgeving",
    "omgevingswet",
    "vergunning",
    "handhaving",
    "inspraak",
    "participatie",
    "burgerberaad",
    "dialoog",
    "reflectie",
    "intervisie",
    "werkatelier",
    "sessie",
    "stuurgroep",
    "kernteam",
    "projectleider",
    "secretaris",
    "voorzitter",
    "notulen",
    "actielijst",
    "termijn",
    "vertraging",
    "versnelling",
    "stilstand",
    "momentum",
    "doorbraak",
    "pilot",
    "experiment",
    "opschalen",
    "borgen",
    "structureel",
    "tijdelijk",
    "budget",
    "begroting",
    "cofinanciering",
    "risico",
    "onzekerheid",
    "ambitie",
    "urgentie",
    "prioriteit",
    "draagvlak",
    "weerstand",
    "informatie",
    "data",
    "monitoring",
    "dashboard",
    "indicatoren",
    "rapportage",
    "kwelderherstel",
    "veenweide",
    "dijkversterking",
    "warmtenet",
    "mobiliteitshub",
    "grensoverschrijdend",
    "krimpregio",
    "herstructurering",
    "transformatieopgave",
];

/// English words, most common first.
const EN_WORDS: &[&str] = &[
    "the",
    "a",
    "and",
    "of",
    "to",
    "in",
    "we",
    "with",
    "for",
    "on",
    "not",
    "that",
    "at",
    "collaboration",
    "municipality",
    "task",
    "region",
    "table",
    "partners",
    "province",
    "national",
    "agreements",
    "role",
    "meeting",
    "administrators",
    "trust",
    "mandate",
    "water",
    "board",
    "officials",
    "network",
    "residents",
    "decision",
    "programme",
    "organisation",
    "ministry",
    "goals",
    "knowledge",
    "resources",
    "time",
    "conversation",
    "differences",
    "interests",
    "housing",
    "energy",
    "transition",
    "learning",
    "feedback",
    "agenda",
    "deal",
    "collaborate",
    "partnership",
    "commissioner",
    "process",
    "implementation",
    "policy",
    "council",
    "alderman",
    "coalition",
    "accountability",
    "funding",
    "subsidy",
    "planning",
    "milestone",
    "evaluation",
    "lessons",
    "experience",
    "space",
    "nitrogen",
    "care",
    "youth",
    "labour",
    "market",
    "accessibility",
    "climate",
    "adaptation",
    "drought",
    "soil",
    "agriculture",
    "nature",
    "liveability",
    "villages",
    "neighbourhoods",
    "entrepreneurs",
    "societal",
    "cooperative",
    "coordination",
    "facilitator",
    "ownership",
    "escalation",
    "conflict",
    "tension",
    "compromise",
    "legitimacy",
    "democracy",
    "oversight",
    "lawful",
    "performing",
    "networking",
    "participating",
    "steering",
    "horizontal",
    "vertical",
    "local",
    "european",
    "legislation",
    "permit",
    "enforcement",
    "participation",
    "assembly",
    "dialogue",
    "reflection",
    "workshop",
    "session",
    "committee",
    "project",
    "lead",
    "secretary",
    "chair",
    "minutes",
    "deadline",
    "delay",
    "acceleration",
    "standstill",
    "momentum",
    "breakthrough",
    "pilot",
    "experiment",
    "scale",
    "embed",
    "structural",
    "temporary",
    "budget",
    "risk",
    "uncertainty",
    "ambition",
    "urgency",
    "priority",
    "support",
    "resistance",
    "information",
    "monitoring",
    "dashboard",
    "indicators",
    "report",
    "saltmarsh",
    "peatland",
    "dyke",
    "heating",
    "hub",
    "crossborder",
    "shrinking",
];

/// Places a lesson may name, most common first: the long tail of rare words a search meets
/// (the last few occur in a handful of lessons per hundred thousand).
const PLACES: &[&str] = &[
    "Rotterdam",
    "Amsterdam",
    "Utrecht",
    "Groningen",
    "Eindhoven",
    "Zwolle",
    "Arnhem",
    "Nijmegen",
    "Tilburg",
    "Breda",
    "Almere",
    "Leeuwarden",
    "Maastricht",
    "Enschede",
    "Apeldoorn",
    "Haarlem",
    "Amersfoort",
    "Zaanstad",
    "Leiden",
    "Dordrecht",
    "Zoetermeer",
    "Emmen",
    "Venlo",
    "Delft",
    "Deventer",
    "Alkmaar",
    "Helmond",
    "Heerlen",
    "Hilversum",
    "Assen",
    "Gouda",
    "Roermond",
    "Terneuzen",
    "Vlissingen",
    "Middelburg",
    "Harderwijk",
    "Kampen",
    "Sneek",
    "Lelystad",
    "Den Helder",
    "Hoogeveen",
    "Meppel",
    "Winterswijk",
    "Doetinchem",
    "Tiel",
    "Zutphen",
    "Goes",
    "Hulst",
    "Sluis",
    "Kerkrade",
    "Vaals",
    "Texel",
    "Urk",
    "Dinkelland",
    "Tubbergen",
    "Ameland",
    "Terschelling",
    "Vlieland",
    "Schiermonnikoog",
];

/// Tags, most common first, as the engine stores them (normalized).
const TAGS: &[&str] = &[
    "rol",
    "regio",
    "rijk",
    "mandaat",
    "vertrouwen",
    "regionale-tafel",
    "terugkoppeling",
    "woningbouw",
    "energie",
    "water",
    "zorg",
    "financiering",
    "participatie",
    "data",
    "conflict",
    "tempo",
    "evaluatie",
    "bestuur",
    "uitvoering",
    "kennisdeling",
    "stikstof",
    "bereikbaarheid",
    "klimaat",
    "omgevingswet",
    "grensregio",
];

const NAMES: &[&str] = &[
    "Anna", "Bram", "Chantal", "Dirk", "Eva", "Fatima", "Gerrit", "Hanneke", "Ilse", "Jeroen",
    "Karim", "Lotte", "Mees", "Noor", "Otto", "Priya", "Quinten", "Roos", "Sven", "Tamara",
];

const SURNAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "de Boer",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
    "Brouwer",
    "El Amrani",
    "Yilmaz",
];

/// Channels the lessons were shared in: twelve collaborations.
pub const CHANNELS: [ChannelId; 12] = [
    ChannelId(9_001),
    ChannelId(9_002),
    ChannelId(9_003),
    ChannelId(9_004),
    ChannelId(9_005),
    ChannelId(9_006),
    ChannelId(9_007),
    ChannelId(9_008),
    ChannelId(9_009),
    ChannelId(9_010),
    ChannelId(9_011),
    ChannelId(9_012),
];

/// Distinct authors; user ids are `AUTHOR_BASE + n`.
const AUTHORS: u64 = 2_000;
const AUTHOR_BASE: u64 = 100_000;
const MODERATOR: UserId = UserId(7);

/// The first and the last moment a generated lesson can be created.
pub fn period() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        Utc.with_ymd_and_hms(2019, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    )
}

/// Draws words by rank with weight 1/(rank+1)^s: a few words everywhere, a long tail of rare
/// ones, the tail the thinner the larger `s`.
struct Zipf<'a> {
    words: &'a [&'a str],
    dist: WeightedIndex<f64>,
}

impl<'a> Zipf<'a> {
    fn new(words: &'a [&'a str], s: f64) -> Self {
        let weights = (0..words.len()).map(|r| 1.0 / (r as f64 + 1.0).powf(s));
        Zipf {
            words,
            dist: WeightedIndex::new(weights).expect("a non-empty vocabulary"),
        }
    }

    fn word(&self, rng: &mut ChaCha8Rng) -> &'a str {
        self.words[self.dist.sample(rng)]
    }

    fn sentence(&self, rng: &mut ChaCha8Rng, min: usize, max: usize) -> String {
        let n = rng.gen_range(min..=max);
        let mut out = String::new();
        for i in 0..n {
            let w = self.word(rng);
            if i == 0 {
                let mut c = w.chars();
                if let Some(first) = c.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push(' ');
                out.push_str(w);
            }
        }
        out
    }

    /// A few sentences, with an occasional paragraph break.
    fn text(&self, rng: &mut ChaCha8Rng, sentences: usize) -> String {
        let mut out = String::new();
        for i in 0..sentences {
            if i > 0 {
                out.push_str(if rng.gen_bool(0.2) { "\n\n" } else { " " });
            }
            out.push_str(&self.sentence(rng, 6, 16));
            out.push('.');
        }
        out
    }

    fn lesson_text(&self, rng: &mut ChaCha8Rng, places: &Zipf) -> LessonText {
        let mut title = self.sentence(rng, 3, 8);
        title.truncate(
            title
                .char_indices()
                .nth(110)
                .map_or(title.len(), |(i, _)| i),
        );
        let happened = rng.gen_range(2..=5);
        let mut happened = self.text(rng, happened);
        if rng.gen_bool(0.3) {
            happened = format!("{}: {happened}", places.word(rng));
        }
        let lesson = rng.gen_range(1..=4);
        LessonText {
            title,
            happened,
            lesson: self.text(rng, lesson),
        }
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (v, w) in weighted {
        if n < *w {
            return *v;
        }
        n -= w;
    }
    weighted[weighted.len() - 1].0
}

/// `n` lessons from `seed`, ids 1 to `n`, created in id order between the ends of [`period`].
pub fn lessons(n: usize, seed: u64) -> Vec<Lesson> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nl = Zipf::new(NL_WORDS, 1.0);
    let en = Zipf::new(EN_WORDS, 1.0);
    let tags = Zipf::new(TAGS, 1.0);
    let places = Zipf::new(PLACES, 2.0);
    let (start, end) = period();
    let span = (end - start).num_seconds().max(1);
    let step = span / n.max(1) as i64;
    (0..n)
        .map(|i| {
            let id = LessonId(i as u64 + 1);
            // Ids sort by creation: each lesson is created within its own slice of the period.
            let created_at =
                start + Duration::seconds(i as i64 * step + rng.gen_range(0..step.max(1)));
            let updated_at = created_at + Duration::minutes(rng.gen_range(0..60 * 24 * 30));
            let library = rng.gen_bool(0.01);
            let lang = if library || rng.gen_bool(0.7) {
                Lang::Nl
            } else {
                Lang::En
            };
            let (own, other) = match lang {
                Lang::Nl => (&nl, &en),
                Lang::En => (&en, &nl),
            };
            let text = own.lesson_text(&mut rng, &places);
            let translation =
                (library || rng.gen_bool(0.2)).then(|| other.lesson_text(&mut rng, &places));
            let order = pick(
                &mut rng,
                &[(Order::First, 50), (Order::Second, 35), (Order::Third, 15)],
            );
            let mut steps: Vec<Step> = (0..rng.gen_range(0..=3))
                .map(|_| Step::ALL[rng.gen_range(0..Step::ALL.len())])
                .collect();
            steps.sort();
            steps.dedup();
            let perspective = rng
                .gen_bool(0.75)
                .then(|| Perspective::ALL[rng.gen_range(0..Perspective::ALL.len())]);
            let mut lesson_tags: Vec<String> = Vec::new();
            for _ in 0..rng.gen_range(0..=4) {
                let t = tags.word(&mut rng).to_owned();
                if !lesson_tags.contains(&t) {
                    lesson_tags.push(t);
                }
            }
            let status = if library {
                LessonStatus::Approved
            } else {
                pick(
                    &mut rng,
                    &[
                        (LessonStatus::Approved, 85),
                        (LessonStatus::Pending, 10),
                        (LessonStatus::Rejected, 5),
                    ],
                )
            };
            let layer = Layer::ALL[rng.gen_range(0..Layer::ALL.len())];
            let (author, author_name, author_layer, attribution) = if library {
                (None, None, None, Attribution::Anonymous)
            } else {
                let user = UserId(AUTHOR_BASE + rng.gen_range(0..AUTHORS));
                let name = format!(
                    "{} {}",
                    NAMES[(user.0 % NAMES.len() as u64) as usize],
                    SURNAMES[(user.0 / 7 % SURNAMES.len() as u64) as usize]
                );
                let attribution = pick(
                    &mut rng,
                    &[
                        (Attribution::Named, 40),
                        (Attribution::Layer, 20),
                        (Attribution::Anonymous, 40),
                    ],
                );
                let layer =
                    (attribution == Attribution::Layer || rng.gen_bool(0.8)).then_some(layer);
                (Some(user), Some(name), layer, attribution)
            };
            let reviewed = status != LessonStatus::Pending;
            Lesson {
                id,
                key: library.then(|| format!("corpus-{:06}", id.0)),
                channel: (!library && rng.gen_bool(0.9))
                    .then(|| CHANNELS[rng.gen_range(0..CHANNELS.len())]),
                author,
                author_name,
                author_layer,
                attribution,
                lang,
                text,
                translation,
                order,
                steps,
                perspective,
                tags: lesson_tags,
                source: library.then(|| "NSOB (2020), Leren van doen".to_owned()),
                status,
                rejection_reason: (status == LessonStatus::Rejected)
                    .then(|| nl.sentence(&mut rng, 4, 10)),
                featured: status == LessonStatus::Approved && rng.gen_bool(0.02),
                created_at,
                updated_at,
                reviewed_at: reviewed.then_some(updated_at),
                reviewed_by: (reviewed && !library).then_some(MODERATOR),
                published_in: Vec::new(),
            }
        })
        .collect()
}

/// Loads the `n` lessons of `seed` into an empty store and sets the lesson counter, so an
/// engine opened on the store afterwards numbers the next lesson `n + 1`.
pub fn load(store: &dyn Store, n: usize, seed: u64) -> anyhow::Result<()> {
    load_lessons(store, &lessons(n, seed))
}

/// As [`load`], for lessons already generated (ids 1 to `lessons.len()`, in order). The
/// records go a thousand per commit; the index is built as the engine's rebuild builds it,
/// each posting list written once.
pub fn load_lessons(store: &dyn Store, lessons: &[Lesson]) -> anyhow::Result<()> {
    anyhow::ensure!(
        store.get(Tree::Meta, b"next_id:lesson")?.is_none(),
        "the store already holds lessons"
    );
    let mut index = search::IndexBuilder::default();
    for chunk in lessons.chunks(BATCH_LESSONS) {
        let mut batch = Batch::new();
        for lesson in chunk {
            index.add(lesson);
            batch.put(
                Tree::Lessons,
                lesson.id.key().to_vec(),
                serde_json::to_vec(lesson)?,
            );
        }
        store.commit(batch)?;
    }
    index.write(store, BATCH_LESSONS)?;
    // The counter last: a load cut short leaves no counter, and is refused when tried again.
    let last = lessons.last().map_or(0, |l| l.id.0);
    let mut batch = Batch::new();
    batch.put(
        Tree::Meta,
        b"next_id:lesson".to_vec(),
        last.to_be_bytes().to_vec(),
    );
    store.commit(batch)?;
    Ok(())
}

/// `n` answers to step 1's question ("what is the issue, according to us?") from `seed`: a few
/// sentences each from the same vocabulary as the lessons, so a round shares some terms and
/// not others; one in five in English.
pub fn answers(n: usize, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nl = Zipf::new(NL_WORDS, 1.0);
    let en = Zipf::new(EN_WORDS, 1.0);
    let places = Zipf::new(PLACES, 2.0);
    (0..n)
        .map(|_| {
            let own = if rng.gen_bool(0.2) { &en } else { &nl };
            let sentences = rng.gen_range(2..=4);
            let mut text = own.text(&mut rng, sentences);
            if rng.gen_bool(0.3) {
                text = format!("{}: {text}", places.word(&mut rng));
            }
            text
        })
        .collect()
}

/// A lesson as a library file (`lessons import`): its key, learning order, steps,
/// perspective, tags and source in the front matter, its own text as the Dutch block and its
/// translation, if any, as the English one.
pub fn library_file(lesson: &Lesson, key: &str) -> String {
    let mut out = String::from("+++\n");
    out.push_str(&format!("key = \"{key}\"\n"));
    out.push_str(&format!("order = \"{}\"\n", lesson.order.key()));
    let steps: Vec<String> = lesson
        .steps
        .iter()
        .map(|s| s.number().to_string())
        .collect();
    out.push_str(&format!("steps = [{}]\n", steps.join(", ")));
    if let Some(p) = lesson.perspective {
        out.push_str(&format!("perspective = \"{}\"\n", p.key()));
    }
    let tags: Vec<String> = lesson.tags.iter().map(|t| format!("\"{t}\"")).collect();
    out.push_str(&format!("tags = [{}]\n", tags.join(", ")));
    out.push_str("source = \"NSOB (2020), Leren van doen\"\n+++\n");
    let mut block = |t: &LessonText, happened: &str, lesson: &str| {
        out.push_str(&format!(
            "\n# {}\n\n## {happened}\n\n{}\n\n## {lesson}\n\n{}\n",
            t.title, t.happened, t.lesson
        ));
    };
    block(&lesson.text, "Wat er gebeurde", "De les");
    if let Some(t) = &lesson.translation {
        block(t, "What happened", "The lesson");
    }
    out
}
