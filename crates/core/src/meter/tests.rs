//! Tests of the idling meter on answers written the way civil servants write them.

use super::*;

fn answers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

const NL_AGREE: &[(&str, &str)] = &[
    ("Anouk", "Volgens mij is de kern dat netcongestie de woningbouw in onze regio stillegt. Nieuwe wijken kunnen niet worden aangesloten en de netbeheerder zegt nee tegen bedrijven."),
    ("Bram", "Congestie op het net. Zolang het stroomnet vol zit, lopen de woningen en de bedrijventerreinen vast, en wij als provincie hebben geen knop om daaraan te draaien."),
    ("Chantal", "Het stroomnet raakt vol: netcongestie. Daardoor staan aansluitingen voor nieuwe woningen en bedrijven in de wachtrij, terwijl de gemeente juist wil bouwen."),
    ("Dirk", "Wij willen 800 woningen bouwen maar de netbeheerder kan ze niet aansluiten. Het net is vol. Zonder oplossing voor de netcongestie stopt de woningbouw."),
    ("Esra", "Netcongestie remt de energietransitie én de woningbouw: de wachtrij bij de netbeheerder groeit sneller dan het net wordt verzwaard."),
];

const NL_SCATTER: &[(&str, &str)] = &[
    ("Anouk", "Het echte vraagstuk is eenzaamheid onder ouderen in de kleine kernen; de bibliotheek en het buurthuis zijn gesloten."),
    ("Bram", "Voor mij gaat het om de stikstofuitstoot van de landbouw rond het Natura 2000-gebied en de onzekerheid bij boeren."),
    ("Chantal", "Schoolverzuim en jongeren die zonder startkwalificatie het onderwijs verlaten; de jeugdzorg sluit daar slecht op aan."),
    ("Dirk", "De grootste zorg is de betaalbaarheid van de huren voor starters: de wachtlijst voor een sociale huurwoning is negen jaar."),
    ("Esra", "Ik zie vooral verdroging: het grondwaterpeil daalt, en de waterschappen en de landbouw hebben tegengestelde belangen."),
];

const EN_AGREE: &[(&str, &str)] = &[
    ("Alice", "The real issue is grid congestion: new housing estates cannot be connected because the grid operator has no capacity left."),
    ("Ben", "Congestion on the electricity grid. Until the grid is reinforced, new houses and business parks wait in the queue."),
    ("Carla", "Our grid is full. The operator's queue for connections keeps growing and that blocks the houses we promised to build."),
    ("Dev", "Grid capacity. Without a fix for congestion, the housing programme of the municipality stalls."),
];

const EN_SCATTER: &[(&str, &str)] = &[
    ("Alice", "Loneliness among older residents in the villages since the library closed."),
    ("Ben", "Nitrogen emissions from farming near the protected nature areas, and farmers who don't know if they can stay."),
    ("Carla", "Pupils dropping out of school without a qualification; youth care does not connect to what happens in class."),
    ("Dev", "Rents are unaffordable for first-time buyers and the waiting list for social housing is nine years."),
];

const NL_LONG_AGREE: &[(&str, &str)] = &[
    ("Anouk", "Als ik eerlijk kijk naar wat er het afgelopen jaar op tafel lag, dan komt alles terug op netcongestie. De netbeheerder heeft ons in maart laten weten dat er tot 2029 geen ruimte meer is op het middenspanningsnet in de hele regio. Dat betekent dat de nieuwbouwwijk aan de rand van de stad niet op tijd kan worden aangesloten, dat het bedrijventerrein geen nieuwe ondernemers kan ontvangen en dat de scholen die we willen verduurzamen met warmtepompen in de wachtrij staan. Wij praten in de stuurgroep steeds over de planning van de woningbouw, over grondposities en over bestemmingsplannen, maar dat zijn gesprekken over symptomen. Zolang het stroomnet vol zit, verandert er niets aan de planning. Ik denk dat wij als gemeente samen met de provincie en de netbeheerder moeten bepalen welke aansluitingen voorrang krijgen, en dat we daarvoor een eerlijk verhaal aan de inwoners verschuldigd zijn."),
    ("Bram", "Netcongestie is voor de provincie vooral een verdelingsvraag. Er is te weinig transportcapaciteit op het elektriciteitsnet, en iedere partij vraagt om voorrang: de woningcorporaties voor nieuwe woningen, de industrie voor elektrificatie, de zorginstellingen voor hun verduurzaming. De netbeheerder mag wettelijk niet zelf kiezen wie eerst gaat, dus ligt die keuze feitelijk bij ons, zonder dat iemand dat zo heeft afgesproken. Ondertussen lopen de wachtrijen op en schuiven we projecten voor ons uit. In de regionale energiestrategie staan ambities voor zon en wind die het net alleen maar voller maken als er geen opslag bij komt. Ik zou willen dat we stoppen met het bespreken van losse projecten en met elkaar vaststellen dat de congestie op het stroomnet het eigenlijke vraagstuk is waar woningbouw, energietransitie en economie aan vastzitten."),
    ("Chantal", "Vanuit de woningcorporatie zien wij het heel concreet: we hebben vierhonderd woningen klaar voor de bouw, vergunning binnen, aannemer gecontracteerd, en toch kunnen we niet starten omdat de netbeheerder geen aansluiting kan garanderen. Netcongestie is voor ons het grootste risico in de planning. Huurders die al jaren op de wachtlijst staan, snappen er niets van als een bouwterrein maanden stil ligt. We hebben geprobeerd om met batterijen en slimme laadpalen de piekbelasting te verlagen, maar zonder afspraken met de gemeente en de netbeheerder over voorrang voor woningbouw blijft dat een pleister. Wat ons betreft is de kern dat het stroomnet niet meegroeit met de opgave in de regio, en dat niemand eigenaar is van die keuze."),
];

const NL_LONG_SCATTER: &[(&str, &str)] = &[
    ("Anouk", "Als ik terugkijk op de gesprekken in de wijken, dan springt eenzaamheid eruit. Vooral ouderen in de kleine kernen raken geïsoleerd sinds de bibliotheek, de bank en de huisarts naar de stad zijn vertrokken. Het buurthuis draait op een handvol vrijwilligers die zelf ook ouder worden. De gemeente heeft welzijnswerkers, maar die zien vooral mensen die zich zelf melden, en juist de eenzaamste inwoners melden zich niet. Mantelzorgers lopen op hun tenen en de wachtlijst voor dagbesteding groeit. Ik denk dat we moeten erkennen dat het verdwijnen van voorzieningen uit de dorpen het sociale weefsel aantast. Als we het daarover eens worden, kunnen we kijken wie wat kan doen: de bibliotheek, de kerken, de sportvereniging, de huisarts en de gemeente samen, in plaats van ieder met een eigen project."),
    ("Bram", "Voor mij is het vraagstuk de stikstofdepositie op het Natura 2000-gebied aan de oostkant van de provincie. De boeren in de bufferzone weten niet of ze kunnen blijven, investeren niet meer, en hun kinderen twijfelen of ze het bedrijf willen overnemen. Tegelijk loopt de vergunningverlening voor wegen en bedrijventerreinen vast omdat er geen depositieruimte is. De provincie heeft een gebiedsproces gestart, maar het rijk verandert de spelregels om het halfjaar, zodat niemand durft te beslissen. De natuur gaat intussen achteruit: de heide vergrast en soorten verdwijnen. Ik denk dat we eerlijk moeten zijn tegen de boeren over wat er mogelijk is, en dat de provincie de regie moet nemen over extensivering, natuurherstel en een goede regeling voor wie wil stoppen."),
    ("Chantal", "Ik zie het vooral in het onderwijs: het aantal jongeren dat zonder startkwalificatie van school gaat, stijgt weer. Leerplichtambtenaren hebben lange wachtlijsten, de jeugdzorg sluit niet aan op wat er in de klas gebeurt, en leraren voelen zich alleen staan met leerlingen die thuis zitten. Scholen, gemeente en jeugdhulp hebben ieder hun eigen dossier en hun eigen protocol, waardoor een jongere drie keer hetzelfde verhaal moet vertellen. Het tekort aan leraren maakt het erger. Ik denk dat het echte vraagstuk is dat niemand zich verantwoordelijk voelt voor de jongere als geheel, en dat we moeten afspreken wie de eerste is die belt als een leerling verzuimt, en wie doorpakt als het thuis niet goed gaat."),
];

const NL_CAMPS: &[(&str, &str)] = &[
    ("Anouk", "Volgens mij is de kern dat netcongestie de woningbouw in onze regio stillegt."),
    ("Bram", "Congestie op het net. Zolang het stroomnet vol zit, lopen de woningen vast."),
    ("Chantal", "Het stroomnet raakt vol: netcongestie. Daardoor staan aansluitingen voor nieuwe woningen in de wachtrij."),
    ("Dirk", "Eenzaamheid onder ouderen in de dorpen, sinds de bibliotheek dicht is."),
    ("Esra", "Ouderen die vereenzamen omdat voorzieningen uit de kernen verdwijnen."),
    ("Fleur", "De eenzaamheid van ouderen; mantelzorgers raken overbelast."),
];

const NL_DOMAIN: &[(&str, &str)] = &[
    ("Anouk", "Starters kunnen geen betaalbare woning vinden; de huren stijgen sneller dan de lonen."),
    ("Bram", "Er worden te weinig woningen gebouwd omdat bouwgrond schaars en duur is."),
    ("Chantal", "Ouderen blijven in grote eengezinswoningen wonen omdat er geen passende seniorenwoningen zijn."),
    ("Dirk", "Statushouders wachten in de opvang op een woning, terwijl de gemeente de taakstelling niet haalt."),
];

const NL_MORE_AGREE: [&str; 3] = [
    "Daar komt bij dat de gesprekken met de netbeheerder nu vooral technisch worden gevoerd, door onze afdeling vastgoed en een accountmanager aan de andere kant. De wethouder hoort het pas als een project stilvalt. Ik zou de vraag wie voorrang krijgt op het net bestuurlijk willen maken: welke maatschappelijke functies gaan voor, hoe wegen we een school tegen honderd woningen, en wie legt dat uit aan de ondernemers die buiten de boot vallen. Zonder die afweging blijft iedere organisatie haar eigen aanvraag indienen en wint wie het eerst in de wachtrij stond. Dat vind ik geen verdeling die wij als overheid kunnen verdedigen.",
    "Wat mij zorgen baart is dat we in de provincie al twee jaar praten over flexibele contracten, energiehubs en collectieve batterijen, maar dat geen enkel project verder is gekomen dan een pilot. De netbeheerder wacht op de gemeenten, de gemeenten wachten op de provincie, en de provincie wacht op het rijk en de toezichthouder. Intussen loopt de wachtrij voor aansluitingen op. Als we congestie op het stroomnet echt als gezamenlijke opgave zien, dan moeten we ook samen de ruimte maken: een regionale prioriteringsregel, een programmateam met mandaat en een eerlijk overzicht van welke woningbouwprojecten wanneer stroom krijgen.",
    "Voor onze huurders is het geen abstract vraagstuk. Mensen die nu in een tochtige flat wonen, wachten op een verduurzaming die niet kan doorgaan omdat een nieuwe warmtepomp een zwaardere aansluiting vraagt. En gezinnen die een nieuwe woning is beloofd, horen dat de oplevering een jaar opschuift. Ik merk dat de teleurstelling zich richt op de corporatie, terwijl de oorzaak bij het volle net ligt. Ik zou willen dat de gemeente, de netbeheerder en wij één verhaal vertellen over de netcongestie en over wat we eraan doen, met een planning die we ook waarmaken.",
];

const NL_MORE_SCATTER: [&str; 3] = [
    "In de praktijk zie ik dat de signalen wel binnenkomen, bij de wijkagent, de postbode, de apotheek, maar dat niemand ze verbindt. Er is geen plek waar die zorgen samenkomen. We hebben subsidies voor activiteiten, maar de mensen die het meest alleen zijn komen niet naar een koffieochtend. Huisbezoeken door vrijwilligers werkten goed, totdat de coördinator met pensioen ging en de regeling stopte. Ik zou willen beginnen met een kaart van de dorpen: waar wonen ouderen alleen, welke voorzieningen zijn er nog, wie komt er over de vloer. Dan kunnen we gericht een buurtnetwerk opbouwen in plaats van weer een nieuw project te starten.",
    "Wat het extra moeilijk maakt, is dat het vertrouwen tussen boeren en overheid zo laag is. Bij elke keukentafel waar ik aanschuif hoor ik dat de regels telkens veranderen en dat de metingen niet kloppen. De gebiedsmakelaars doen hun best, maar ze hebben geen mandaat om iets toe te zeggen. Ondertussen liggen aanvragen voor stallen die emissiearm willen worden al jaren op de plank. Ik zou willen dat we per gebied een kaart maken van wat de natuur nodig heeft, wat boeren willen, en welke grond beschikbaar is voor ruil, zodat er weer perspectief komt voor wie wil blijven boeren.",
    "Wat ontbreekt is een gedeeld beeld van de leerling. De mentor weet van de ruzie thuis, de jeugdconsulent weet van de schulden, de leerplichtambtenaar ziet alleen het verzuim, en de jongere zelf wordt nergens gehoord. Ouders haken af omdat ze van loket naar loket worden gestuurd. Op de scholen waar een zorgcoördinator wekelijks met de wijkteams aan tafel zit, daalt het verzuim zichtbaar. Ik zou willen dat we dat op alle middelbare scholen in de regio invoeren, met één contactpersoon per leerling en afspraken over wie binnen een week terugbelt.",
];

fn extended(base: &[(&str, &str)], more: [&str; 3]) -> Vec<(String, String)> {
    base.iter()
        .zip(more)
        .map(|((n, a), b)| (n.to_string(), format!("{a}\n\n{b}")))
        .collect()
}

const ISSUES: [&str; 20] = [
    "Eenzaamheid onder ouderen in de kleine kernen.",
    "Stikstofuitstoot van de landbouw bij het Natura 2000-gebied.",
    "Schoolverzuim en jongeren zonder startkwalificatie.",
    "Betaalbaarheid van huurwoningen voor starters.",
    "Verdroging en een dalend grondwaterpeil.",
    "Armoede en schulden bij gezinnen met jonge kinderen.",
    "Personeelstekort in de thuiszorg.",
    "Overlast van drugscriminaliteit in de binnenstad.",
    "Leegstand van winkels in het centrum.",
    "Verkeersveiligheid rond basisscholen.",
    "Opvang van asielzoekers en statushouders.",
    "Laaggeletterdheid onder volwassenen.",
    "Wateroverlast bij hevige regenbuien in oude wijken.",
    "Digitale kloof: inwoners die niet meer bij de overheid terechtkunnen.",
    "Bodemdaling in het veenweidegebied.",
    "Hittestress in versteende buurten.",
    "Gebrek aan openbaar vervoer op het platteland.",
    "Polarisatie en wantrouwen tegenover de politiek.",
    "Zwerfafval en plastic in de rivieren.",
    "Mentale gezondheid van studenten.",
];

const NAMINGS: [&str; 5] = [
    "Netcongestie",
    "Het stroomnet zit vol, netcongestie dus",
    "Congestie op het elektriciteitsnet",
    "De netbeheerder kan niemand meer aansluiten door netcongestie",
    "Er is geen transportcapaciteit meer op het stroomnet: congestie",
];

const CONTEXTS: [&str; 4] = [
    "waardoor de woningbouw stilvalt.",
    "en bedrijven staan op de wachtlijst.",
    "dus de laadpalen voor de bussen komen er niet.",
    "zodat de warmtepompen in de nieuwe wijken moeten wachten.",
];

fn group(n: usize, agree: bool) -> Vec<(String, String)> {
    (0..n)
        .map(|k| {
            let text = if agree {
                format!("{}, {}", NAMINGS[k % 5], CONTEXTS[(k / 5 + k) % 4])
            } else {
                ISSUES[k].to_string()
            };
            (format!("lid{k}"), text)
        })
        .collect()
}

fn score(set: &[(String, String)], lang: Lang) -> f64 {
    agreement(set, lang).score.expect("a score")
}

fn displays(terms: &[Term]) -> Vec<&str> {
    terms.iter().map(|t| t.display.as_str()).collect()
}

fn shared_displays(a: &Agreement) -> Vec<&str> {
    a.shared.iter().map(|s| s.display.as_str()).collect()
}

fn is_stop(word: &str, lang: Lang) -> bool {
    let list = match lang {
        Lang::Nl => stopwords::NL,
        Lang::En => stopwords::EN,
    };
    list.binary_search(&word).is_ok()
}

#[test]
fn answers_naming_one_issue_score_clearly_higher_than_scattered_ones() {
    for (agree, scatter, lang) in [
        (NL_AGREE, NL_SCATTER, Lang::Nl),
        (EN_AGREE, EN_SCATTER, Lang::En),
        (NL_LONG_AGREE, NL_LONG_SCATTER, Lang::Nl),
    ] {
        let a = agreement(&answers(agree), lang);
        let s = agreement(&answers(scatter), lang);
        let (sa, ss) = (a.score.unwrap(), s.score.unwrap());
        assert!(sa - ss >= 0.15, "{} vs {}", a.summary(), s.summary());
        assert_eq!(a.verdict, Some(Verdict::Converging), "{}", a.summary());
        assert_eq!(s.verdict, Some(Verdict::Scattered), "{}", s.summary());
        assert!(a.reasoning.shared_ratio > s.reasoning.shared_ratio);
        assert!(a.reasoning.reach > s.reasoning.reach);
        assert_eq!(a.reasoning.reach, 1.0, "{}", a.summary());
    }
}

#[test]
fn answers_of_two_to_three_hundred_words_keep_their_verdicts() {
    let agree = extended(NL_LONG_AGREE, NL_MORE_AGREE);
    let scatter = extended(NL_LONG_SCATTER, NL_MORE_SCATTER);
    for (_, text) in agree.iter().chain(&scatter) {
        assert!((200..=300).contains(&text.split_whitespace().count()));
    }
    let a = agreement(&agree, Lang::Nl);
    let s = agreement(&scatter, Lang::Nl);
    assert_eq!(a.verdict, Some(Verdict::Converging), "{}", a.summary());
    assert_eq!(s.verdict, Some(Verdict::Scattered), "{}", s.summary());
}

#[test]
fn the_score_is_stable_from_two_to_twenty_members() {
    for n in 2..=20 {
        let a = score(&group(n, true), Lang::Nl);
        let s = score(&group(n, false), Lang::Nl);
        assert!(a >= CONVERGING_FROM, "{n} agreeing members: {a}");
        assert!(s < SCATTERED_BELOW, "{n} scattered members: {s}");
    }
    // One-word answers: the same word agrees fully, different words not at all.
    let same = answers(&[
        ("a", "Netcongestie"),
        ("b", "netcongestie!"),
        ("c", "NETCONGESTIE"),
    ]);
    assert_eq!(score(&same, Lang::Nl), 1.0);
    let different = answers(&[("a", "Stikstof"), ("b", "Eenzaamheid"), ("c", "Woningnood")]);
    assert_eq!(score(&different, Lang::Nl), 0.0);
}

#[test]
fn two_camps_are_mixed_even_when_each_camp_agrees_closely() {
    let camps = agreement(&answers(NL_CAMPS), Lang::Nl);
    assert_eq!(camps.verdict, Some(Verdict::Mixed), "{}", camps.summary());
    // Each answer meets its own camp only: two of the five others.
    assert!(
        (camps.reasoning.reach - 0.4).abs() < 1e-9,
        "{}",
        camps.summary()
    );
    // Two camps of two that agree word for word: a score a converging group would have, but
    // the reach shows the split.
    let pairs = answers(&[
        ("a", "Netcongestie remt de woningbouw."),
        ("b", "De netcongestie remt de woningbouw."),
        ("c", "Eenzaamheid onder ouderen."),
        ("d", "De eenzaamheid van ouderen."),
    ]);
    let split = agreement(&pairs, Lang::Nl);
    assert!(
        split.score.unwrap() >= CONVERGING_FROM,
        "{}",
        split.summary()
    );
    assert_eq!(split.verdict, Some(Verdict::Mixed), "{}", split.summary());
    // The mixed sets sit between the clear cases.
    let agree = score(&answers(NL_AGREE), Lang::Nl);
    let scatter = score(&answers(NL_SCATTER), Lang::Nl);
    assert!(agree > camps.score.unwrap() && camps.score.unwrap() > scatter);
}

#[test]
fn verdict_thresholds() {
    assert_eq!(Verdict::of(1.0, 1.0), Verdict::Converging);
    assert_eq!(
        Verdict::of(CONVERGING_FROM, REACH_FROM),
        Verdict::Converging
    );
    // A fair score that stays within camps is mixed.
    assert_eq!(Verdict::of(0.3, 0.33), Verdict::Mixed);
    assert_eq!(Verdict::of(0.08, 1.0), Verdict::Mixed);
    assert_eq!(Verdict::of(SCATTERED_BELOW, 0.0), Verdict::Mixed);
    assert_eq!(Verdict::of(0.05, 1.0), Verdict::Scattered);
    assert_eq!(Verdict::of(0.0, 0.0), Verdict::Scattered);
    assert_eq!(Verdict::Mixed.key(), "mixed");
}

#[test]
fn shared_terms_show_the_words_people_used() {
    let nl = agreement(&answers(NL_AGREE), Lang::Nl);
    let shared = shared_displays(&nl);
    for word in ["congestie", "woningen", "woningbouw", "netbeheerder"] {
        assert!(shared.contains(&word), "{word} not in {shared:?}");
    }
    // `netcongestie` counts as `congestie`, which two members used on its own.
    assert!(!shared.contains(&"netcongestie"), "{shared:?}");
    // Most members first: everyone names congestion, in some form.
    assert_eq!(shared[0], "congestie");
    assert_eq!(nl.shared[0].members, 5);
    assert_eq!(
        nl.shared[0].names,
        ["Anouk", "Bram", "Chantal", "Dirk", "Esra"]
    );
    assert_eq!(nl.reasoning.widest_term.as_deref(), Some("congestie"));
    assert_eq!(nl.reasoning.widest_members, 5);
    // Ties in member count are alphabetical.
    for w in nl.shared.windows(2) {
        assert!(
            w[0].members > w[1].members
                || (w[0].members == w[1].members && w[0].display <= w[1].display)
        );
    }

    let en = agreement(&answers(EN_AGREE), Lang::En);
    let shared = shared_displays(&en);
    for word in ["grid", "congestion", "houses", "queue", "operator"] {
        assert!(shared.contains(&word), "{word} not in {shared:?}");
    }
    assert_eq!(en.shared[0].display, "grid");
    assert_eq!(en.shared[0].members, 4);
}

#[test]
fn unique_terms_belong_to_one_member_each() {
    let a = agreement(&answers(NL_AGREE), Lang::Nl);
    let names: Vec<&str> = a.unique.iter().map(|m| m.member.as_str()).collect();
    assert_eq!(names, ["Anouk", "Bram", "Chantal", "Dirk", "Esra"]);
    let esra = displays(&a.unique[4].terms);
    assert!(esra.contains(&"energietransitie"), "{esra:?}");
    let shared: BTreeSet<&str> = a.shared.iter().map(|s| s.stem.as_str()).collect();
    let mut seen = BTreeSet::new();
    for m in &a.unique {
        for t in &m.terms {
            assert!(!shared.contains(t.stem.as_str()));
            assert!(seen.insert(t.stem.clone()), "{} twice", t.stem);
        }
    }
    let scattered = agreement(&answers(NL_SCATTER), Lang::Nl);
    assert_eq!(shared_displays(&scattered), ["landbouw"]);
    assert!(displays(&scattered.unique[1].terms).contains(&"stikstofuitstoot"));
}

#[test]
fn stop_words_never_become_terms() {
    let fixtures = [
        (NL_AGREE, Lang::Nl),
        (NL_SCATTER, Lang::Nl),
        (NL_LONG_AGREE, Lang::Nl),
        (NL_LONG_SCATTER, Lang::Nl),
        (NL_CAMPS, Lang::Nl),
        (EN_AGREE, Lang::En),
        (EN_SCATTER, Lang::En),
    ];
    for (set, lang) in fixtures {
        for (_, text) in set {
            for t in key_terms(text, lang) {
                let folded = crate::search::words(&t.display).join("");
                assert!(!is_stop(&folded, lang), "{folded} is a stop word");
                assert!(folded.chars().count() >= MIN_CHARS);
            }
        }
    }
    let filler = "Volgens ons is het echte probleem van de samenwerking dat we samen moeten gaan \
                  kijken wat onze opgave is, maar eigenlijk weten we dat allemaal wel.";
    let left = key_terms(filler, Lang::Nl);
    assert_eq!(displays(&left), ["kijken"]);
    let filler = "We think the real issue is that our collaboration should really work together.";
    assert_eq!(displays(&key_terms(filler, Lang::En)), ["real", "work"]);
    // Prepositions say where, not what: seen in use, `langs` was C's own key term beside
    // `rivier`, while the English `along` was dropped.
    let place = key_terms(
        "De waterveiligheid langs de rivier, naast de dijk.",
        Lang::Nl,
    );
    assert_eq!(displays(&place), ["dijk", "rivier", "waterveiligheid"]);
    let place = key_terms("Water safety along the river, beside the dike.", Lang::En);
    assert_eq!(displays(&place), ["dike", "river", "safety", "water"]);
    // Every listed word, written any way, is dropped.
    for (list, lang) in [(stopwords::NL, Lang::Nl), (stopwords::EN, Lang::En)] {
        for word in list {
            assert!(key_terms(word, lang).is_empty(), "{word}");
            assert!(key_terms(&word.to_uppercase(), lang).is_empty(), "{word}");
        }
    }
}

#[test]
fn stop_word_lists_are_sorted_folded_and_long_enough_to_matter() {
    for list in [stopwords::NL, stopwords::EN] {
        for w in list.windows(2) {
            assert!(w[0] < w[1], "{} before {}", w[0], w[1]);
        }
        for w in list {
            assert_eq!(
                crate::search::words(w),
                [w.to_string()],
                "{w} is not folded"
            );
            assert!(w.chars().count() >= MIN_CHARS, "{w} is dropped anyway");
        }
    }
    // Domain words that say what an answer is about stay.
    for word in [
        "gemeente",
        "provincie",
        "inwoners",
        "bewoners",
        "beleid",
        "cooperatie",
    ] {
        assert!(!is_stop(word, Lang::Nl), "{word}");
    }
    for word in ["municipality", "residents", "council", "budget", "housing"] {
        assert!(!is_stop(word, Lang::En), "{word}");
    }
}

#[test]
fn stemming_merges_inflections() {
    for (text, lang, display) in [
        ("woningen woning", Lang::Nl, "woning"),
        ("bewoners bewoner", Lang::Nl, "bewoner"),
        (
            "de bewoners, de bewoners en een bewoner",
            Lang::Nl,
            "bewoners",
        ),
        ("houses housing", Lang::En, "houses"),
        ("neighbourhoods neighbourhood", Lang::En, "neighbourhood"),
    ] {
        let terms = key_terms(text, lang);
        assert_eq!(terms.len(), 1, "{text}: {terms:?}");
        assert_eq!(terms[0].display, display, "{text}");
    }
    let terms = key_terms("De woningen, de woningen en de woning.", Lang::Nl);
    assert_eq!(terms[0].uses, 3);
    assert_eq!(terms[0].display, "woningen");
}

#[test]
fn a_dutch_compound_meets_its_head_and_never_the_word_it_begins_with() {
    // A netcongestie is a kind of congestie: it counts as `congestie`, once, and is not listed
    // again as a word of its own.
    let set = answers(&[
        ("a", "Netcongestie remt de woningbouw."),
        ("b", "Congestie op het net houdt de woningen tegen."),
    ]);
    let a = agreement(&set, Lang::Nl);
    assert_eq!(shared_displays(&a), ["congestie"]);
    assert_eq!(a.shared[0].names, ["a", "b"]);
    assert_eq!(displays(&a.unique[0].terms), ["remt", "woningbouw"]);
    assert_eq!(displays(&a.unique[1].terms), ["houdt", "woningen"]);

    // A waterschap is no kind of water, whatever it starts with (reported: 100%, "water (2)",
    // and `waterschap` listed as B's alone at the same time).
    let set = answers(&[("A", "Water"), ("B", "Waterschap")]);
    let a = agreement(&set, Lang::Nl);
    assert!(a.shared.is_empty(), "{}", a.summary());
    assert_eq!(a.score, Some(0.0));
    assert_eq!(a.verdict, Some(Verdict::Scattered));
    assert_eq!(displays(&a.unique[1].terms), ["waterschap"]);

    // Reported: "3 of 3 pairs share a key term" and "woningen (3)". Woningbouw is not woningen.
    let set = answers(&[
        ("A", "woningen en bedrijven"),
        ("B", "woningbouw en bedrijven"),
        ("C", "woningen en scholen"),
    ]);
    let a = agreement(&set, Lang::Nl);
    let counted: Vec<(&str, usize)> = a
        .shared
        .iter()
        .map(|s| (s.display.as_str(), s.members))
        .collect();
    assert_eq!(counted, [("bedrijven", 2), ("woningen", 2)]);
    assert_eq!(a.shared[1].names, ["A", "C"]);
    assert_eq!(displays(&a.unique[1].terms), ["woningbouw"]);
    assert_eq!(displays(&a.unique[2].terms), ["scholen"]);

    // Spelled out in one answer, a compound meets both its parts.
    let set = answers(&[
        ("a", "De stikstofuitstoot van de veehouderij."),
        ("b", "De uitstoot van stikstof door het verkeer."),
    ]);
    assert_eq!(
        shared_displays(&agreement(&set, Lang::Nl)),
        ["stikstof", "uitstoot"]
    );
    // Not spelled out, it does not meet the word it begins with: the price of the rule above.
    let set = answers(&[("a", "De stikstofuitstoot."), ("b", "Stikstof.")]);
    assert!(agreement(&set, Lang::Nl).shared.is_empty());

    // Prefixes and verb particles make other words, not kinds: toezicht is not zicht,
    // verbinding not binding, aansluiting not sluiting, bedrijven not drijven.
    for (x, y) in [
        (
            "Het toezicht schiet tekort.",
            "Er is geen zicht op de cijfers.",
        ),
        ("De verbinding met de stad.", "De binding met de regio."),
        ("Een aansluiting op het net.", "De sluiting van de school."),
        ("Bedrijven vertrekken.", "Wie laat dit drijven?"),
    ] {
        let a = agreement(&answers(&[("a", x), ("b", y)]), Lang::Nl);
        assert!(a.shared.is_empty(), "{x} / {y}: {}", a.summary());
    }
    // English writes compounds apart, and is not split: `network` does not share `work`.
    let set = answers(&[
        ("a", "The network is weak."),
        ("b", "Work on the framework."),
    ]);
    assert!(agreement(&set, Lang::En).shared.is_empty());
    // Heads shorter than five letters are not looked for.
    let set = answers(&[("a", "Het wegennet."), ("b", "Het net en de paden.")]);
    assert!(agreement(&set, Lang::Nl).shared.is_empty());
    let set = answers(&[("a", "De landbouw."), ("b", "De bouw ligt stil.")]);
    assert!(agreement(&set, Lang::Nl).shared.is_empty());
}

#[test]
fn english_answers_in_a_dutch_channel_are_read_as_english() {
    // Reported: in a Dutch channel, English answers shared `the`, and one shared `the` made
    // the round converge.
    let set = answers(&[
        (
            "Joost",
            "The housing shortage for young people in the villages.",
        ),
        ("Karim", "The lack of public transport in the evening."),
        (
            "Lotte",
            "The loneliness of the elderly since the library closed.",
        ),
    ]);
    let a = agreement(&set, Lang::Nl);
    assert!(a.shared.is_empty(), "{}", a.summary());
    assert_eq!(a.verdict, Some(Verdict::Scattered), "{}", a.summary());
    assert!(a.unique.iter().all(|u| u.lang == Lang::En));
    assert_eq!(a.reasoning.english, 3);
    for u in &a.unique {
        assert!(!displays(&u.terms).contains(&"the"), "{:?}", u.terms);
    }
    // English stemming: `villages` and `village` are one term, as `woningen` and `woning`.
    let set = answers(&[("a", "The villages empty."), ("b", "Our village empties.")]);
    assert_eq!(agreement(&set, Lang::Nl).shared.len(), 2);
    // And a Dutch answer in an English channel keeps its Dutch reading, compounds included.
    let set = answers(&[
        ("a", "Netcongestie remt de woningbouw."),
        ("b", "Congestie op het net houdt de woningen tegen."),
    ]);
    assert_eq!(shared_displays(&agreement(&set, Lang::En)), ["congestie"]);
}

#[test]
fn answers_in_two_languages_are_compared_within_their_language_only() {
    // One Dutch and one English answer: nothing to compare, and the meter says why.
    let set = answers(&[
        ("a", "Netcongestie remt de woningbouw."),
        (
            "b",
            "Grid congestion is slowing down the construction of new homes.",
        ),
    ]);
    let a = agreement(&set, Lang::Nl);
    assert_eq!((a.score, a.verdict), (None, None));
    assert_eq!(a.unscored, Some(Unscored::LanguagesApart));
    assert_eq!((a.reasoning.dutch, a.reasoning.english), (1, 1));
    // Three in English agree; the fourth, in Dutch, is left out rather than counted against.
    let set = answers(&[
        (
            "a",
            "Grid congestion: the operator cannot connect new homes.",
        ),
        (
            "b",
            "The electricity grid is full, and the congestion blocks new homes.",
        ),
        (
            "c",
            "Congestion on the grid means the new homes wait for years.",
        ),
        (
            "d",
            "Netcongestie: de netbeheerder kan de nieuwe woningen niet aansluiten.",
        ),
    ]);
    let a = agreement(&set, Lang::En);
    assert_eq!(a.verdict, Some(Verdict::Converging), "{}", a.summary());
    assert_eq!((a.reasoning.compared, a.reasoning.apart), (3, 1));
    assert_eq!(a.reasoning.pairs, 3);
    // What was not compared is not listed as one member's own, nor counted among the key
    // terms: "netbeheerder" shares nothing because nobody else wrote Dutch, not because the
    // others disagree.
    let d = a
        .unique
        .iter()
        .find(|u| u.member == "d")
        .expect("d is listed");
    assert!(d.terms.is_empty(), "{:?}", d.terms);
    let english = agreement(&set[..3], Lang::En);
    assert_eq!(
        a.reasoning.distinct_terms, english.reasoning.distinct_terms,
        "the key terms are those of the three English answers"
    );
    assert_eq!(a.shared, english.shared);
    // Two languages with two answers each: a word written alike in one Dutch and one English
    // answer is not shared (the two were never compared), nor either one's own: listed under
    // "used by one participant only" for both, it read as a contradiction (seen in use:
    // "Femke (… linge …), George (linge)").
    let set = answers(&[
        ("a", "Het water bij bewoners door de hitte in de wijk."),
        ("b", "De hitte in de wijk maakt bewoners ziek."),
        ("c", "Water from the heat in the neighbourhood."),
        ("d", "The heat in the neighbourhood harms people."),
    ]);
    let a = agreement(&set, Lang::Nl);
    assert_eq!((a.reasoning.compared, a.reasoning.apart), (4, 0));
    assert!(
        a.shared.iter().all(|t| t.display != "water"),
        "{}",
        a.summary()
    );
    for who in ["a", "c"] {
        let own = a.unique.iter().find(|u| u.member == who).expect("listed");
        assert!(
            !displays(&own.terms).contains(&"water"),
            "{who}: {:?}",
            own.terms
        );
    }
    // What only one of them wrote is still theirs.
    let b = a.unique.iter().find(|u| u.member == "b").expect("listed");
    assert_eq!(displays(&b.terms), ["ziek"], "{:?}", b.terms);
}

#[test]
fn the_language_of_an_answer_is_read_from_its_grammatical_words() {
    for (text, fallback, lang) in [
        ("The grid is full.", Lang::Nl, Lang::En),
        ("Het net zit vol.", Lang::En, Lang::Nl),
        (
            "Wij willen bouwen, but the grid is full and the operator says no.",
            Lang::Nl,
            Lang::En,
        ),
        ("Netcongestie.", Lang::Nl, Lang::Nl),
        ("Netcongestie.", Lang::En, Lang::En),
        ("Grid capacity.", Lang::Nl, Lang::Nl),
        ("", Lang::En, Lang::En),
    ] {
        assert_eq!(detect_language(text, fallback), lang, "{text}");
    }
    for list in language::LISTS {
        for w in list.windows(2) {
            assert!(w[0] < w[1], "{} before {}", w[0], w[1]);
        }
    }
    // No word is evidence for both languages.
    for w in language::LISTS[0] {
        assert!(language::LISTS[1].binary_search(w).is_err(), "{w}");
    }
}

#[test]
fn a_term_is_never_both_shared_and_one_members_own() {
    let sets = [
        (answers(NL_AGREE), Lang::Nl),
        (answers(NL_SCATTER), Lang::Nl),
        (answers(NL_CAMPS), Lang::Nl),
        (answers(NL_DOMAIN), Lang::Nl),
        (answers(EN_AGREE), Lang::En),
        (extended(NL_LONG_AGREE, NL_MORE_AGREE), Lang::Nl),
        (
            answers(&[
                ("a", "Water en een waterschap"),
                ("b", "Waterschap"),
                ("c", "Netcongestie en stroomnetcongestie"),
                ("d", "Congestie op het net"),
            ]),
            Lang::Nl,
        ),
    ];
    for (set, lang) in sets {
        let a = agreement(&set, lang);
        let shared: BTreeSet<&str> = a.shared.iter().map(|s| s.display.as_str()).collect();
        for s in &a.shared {
            assert_eq!(s.members, s.names.len());
            assert!(s.members >= 2);
        }
        for u in &a.unique {
            for t in &u.terms {
                assert!(!shared.contains(t.display.as_str()), "{} both", t.display);
            }
        }
        assert_eq!(
            a.reasoning.distinct_terms,
            a.shared.len() + a.unique.iter().map(|u| u.terms.len()).sum::<usize>()
        );
    }
}

#[test]
fn accents_fold_and_the_most_used_spelling_is_shown() {
    let terms = key_terms("De coöperatie, de cooperatie en de Coöperatie.", Lang::Nl);
    assert_eq!(terms.len(), 1);
    assert_eq!(terms[0].display, "coöperatie");
    assert_eq!(terms[0].uses, 3);
    // Decomposed accents (as some keyboards send them) are the same word and spelling.
    let terms = key_terms("coo\u{308}peratie coöperatie", Lang::Nl);
    assert_eq!(terms.len(), 1);
    assert_eq!(terms[0].display, "coöperatie");
    assert_eq!(terms[0].uses, 2);
    let set = answers(&[("a", "Een coöperatie"), ("b", "De cooperatie")]);
    let a = agreement(&set, Lang::Nl);
    assert_eq!(a.shared.len(), 1);
    assert_eq!(a.shared[0].display, "cooperatie"); // a tie: alphabetical
                                                   // Acronyms keep their capitals; sentence starts do not.
    let terms = key_terms("RES. De RES en de provincie. Provincie!", Lang::Nl);
    assert_eq!(displays(&terms), ["RES", "provincie"]);
}

#[test]
fn numbers_and_short_words_are_dropped() {
    let terms = key_terms(
        "In 2030 wil 1e en 3de fase 100% klaar, ok? CO2 op de A12.",
        Lang::Nl,
    );
    assert_eq!(displays(&terms), ["A12", "CO2", "fase", "klaar"]);
}

#[test]
fn blank_answers_are_ignored() {
    let mut set = answers(NL_AGREE);
    let plain = agreement(&set, Lang::Nl);
    set.insert(1, ("Gijs".into(), "   \n\t ".into()));
    set.push(("Hanna".into(), String::new()));
    let with_blanks = agreement(&set, Lang::Nl);
    assert_eq!(with_blanks.score, plain.score);
    assert_eq!(with_blanks.shared, plain.shared);
    assert_eq!(with_blanks.unique, plain.unique);
    assert_eq!(with_blanks.reasoning.blank, 2);
    assert_eq!(with_blanks.reasoning.answers, 5);
}

#[test]
fn fewer_than_two_answers_give_no_score_and_say_why() {
    let none = agreement(&[], Lang::Nl);
    assert_eq!((none.score, none.verdict), (None, None));
    assert_eq!(none.unscored, Some(Unscored::NoAnswers));
    let blanks = agreement(&answers(&[("a", " "), ("b", "")]), Lang::Nl);
    assert_eq!(blanks.unscored, Some(Unscored::NoAnswers));
    assert_eq!(blanks.reasoning.blank, 2);

    let one = agreement(&answers(&[("a", "Netcongestie"), ("b", "  ")]), Lang::Nl);
    assert_eq!((one.score, one.verdict), (None, None));
    assert_eq!(one.unscored, Some(Unscored::OneAnswer));
    assert!(one.shared.is_empty());
    assert_eq!(displays(&one.unique[0].terms), ["netcongestie"]);

    let empty_words = answers(&[
        ("a", "Ja, eens."),
        ("b", "Dat denk ik ook 👍"),
        ("c", "Stikstof"),
    ]);
    let a = agreement(&empty_words, Lang::Nl);
    assert_eq!(a.unscored, Some(Unscored::TooFewTerms));
    assert_eq!(a.score, None);
    assert_eq!((a.reasoning.without_terms, a.reasoning.compared), (2, 0));

    // Answers without terms are left out of the score, not counted as disagreement.
    let mut set = answers(NL_AGREE);
    set.push(("Fleur".into(), "Eens, zo is het.".into()));
    let a = agreement(&set, Lang::Nl);
    assert_eq!(a.score, agreement(&answers(NL_AGREE), Lang::Nl).score);
    assert_eq!(a.reasoning.without_terms, 1);
    assert!(a.unscored.is_none());
}

#[test]
fn hostile_input_stays_data() {
    let nasty = format!(
        "# **Netcongestie** <script>alert('x')</script> {{{{x}}}} {{{{#each}}}} [link](javascript:void) \
         🚧⚡️👩‍👩‍👧 \u{202e}lortnoc\u{202c} \u{200d}\u{feff} שלום עולם مَرْحَبًا `rm -rf` \u{0}\u{7} {} {}",
        "a".repeat(4000),
        "netcongestie ".repeat(300)
    );
    assert!(nasty.chars().count() > 4000);
    for lang in [Lang::Nl, Lang::En] {
        let terms = key_terms(&nasty, lang);
        for t in &terms {
            assert!(
                t.display.chars().all(char::is_alphanumeric),
                "{:?} is not a plain word",
                t.display
            );
            assert!(t.display.chars().count() <= MAX_CHARS);
        }
        let shown = displays(&terms);
        assert_eq!(shown[0], "netcongestie");
        assert_eq!(terms[0].uses, 301);
        for word in ["script", "alert", "javascript", "שלום", "مَرْحَبًا", "lortnoc"] {
            assert!(shown.contains(&word), "{word} missing from {shown:?}");
        }
        let set = vec![
            ("<b>Anouk</b> {{name}}".to_string(), nasty.clone()),
            (
                "\u{202e}Bram".to_string(),
                "Netcongestie!! 🚧 <img src=x onerror=alert(1)>".to_string(),
            ),
            ("".to_string(), "\u{0}".repeat(4000)),
        ];
        let a = agreement(&set, lang);
        assert_eq!(a.unique[0].member, "<b>Anouk</b> {{name}}");
        assert!(a.score.is_some());
        serde_json::to_string(&a).expect("serializable");
        let c = changes(
            &[(1, "x".into(), nasty.clone())],
            &[(1, "x".into(), "ok".into())],
            lang,
        );
        assert_eq!(c.members[0].similarity, 0.0);
    }
}

fn round(list: &[(u64, &str, &str)]) -> Vec<(u64, String, String)> {
    list.iter()
        .map(|(id, n, t)| (*id, n.to_string(), t.to_string()))
        .collect()
}

const FIRST: &[(u64, &str, &str)] = &[
    (1, "Anouk", "Eenzaamheid onder ouderen in de kleine kernen."),
    (
        2,
        "Bram",
        "De stikstofuitstoot van de landbouw bij het Natura 2000-gebied.",
    ),
    (
        3,
        "Chantal",
        "Netcongestie: nieuwe woningen kunnen niet worden aangesloten.",
    ),
    (
        4,
        "Dirk",
        "Verdroging door de landbouw en het dalende grondwaterpeil.",
    ),
];

const SECOND: &[(u64, &str, &str)] = &[
    (
        3,
        "Chantal",
        "Netcongestie, en daardoor lopen de woningen vertraging op.",
    ),
    (
        1,
        "Anouk",
        "Netcongestie houdt de woningbouw tegen, ook de zorgwoningen voor ouderen.",
    ),
    (
        5,
        "Esra",
        "Het stroomnet zit vol; netcongestie remt de woningbouw.",
    ),
    (
        2,
        "Bram",
        "Netcongestie: de netbeheerder kan de woningen en de boerenbedrijven niet aansluiten.",
    ),
];

#[test]
fn changes_between_rounds_find_new_and_dropped_themes() {
    let c = changes(&round(FIRST), &round(SECOND), Lang::Nl);
    let new: Vec<&str> = c.new_themes.iter().map(|t| t.display.as_str()).collect();
    assert_eq!(&new[..2], &["netcongestie", "woningen"], "{new:?}");
    assert_eq!(
        (
            c.new_themes[0].members_before,
            c.new_themes[0].members_after
        ),
        (1, 4)
    );
    assert_eq!(
        (c.new_themes[0].uses_before, c.new_themes[0].uses_after),
        (1, 4)
    );
    assert!(new.contains(&"woningbouw"));
    let dropped: Vec<&str> = c
        .dropped_themes
        .iter()
        .map(|t| t.display.as_str())
        .collect();
    assert_eq!(dropped, ["landbouw"]);
    assert_eq!(
        (
            c.dropped_themes[0].members_before,
            c.dropped_themes[0].members_after
        ),
        (2, 0)
    );
    assert!(c.kept_themes.is_empty());

    assert_eq!(
        c.joined,
        [MemberRef {
            id: 5,
            name: "Esra".into()
        }]
    );
    assert_eq!(
        c.left,
        [MemberRef {
            id: 4,
            name: "Dirk".into()
        }]
    );
    let names: Vec<&str> = c.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Anouk", "Bram", "Chantal"]);

    let anouk = &c.members[0];
    assert!(displays(&anouk.added).contains(&"netcongestie"));
    assert!(displays(&anouk.added).contains(&"woningbouw"));
    assert_eq!(
        displays(&anouk.dropped),
        ["eenzaamheid", "kernen", "kleine"]
    );
    assert_eq!(displays(&anouk.kept), ["ouderen"]);
    let bram = &c.members[1];
    assert!(displays(&bram.dropped).contains(&"landbouw"));
    assert_eq!(bram.kept, []);
    assert_eq!(bram.similarity, 0.0);
    let chantal = &c.members[2];
    assert_eq!(displays(&chantal.kept), ["netcongestie", "woningen"]);
    assert!(chantal.similarity > anouk.similarity && anouk.similarity > bram.similarity);
    assert!((0.0..=1.0).contains(&chantal.similarity));
}

#[test]
fn changes_handle_renames_double_entries_and_empty_rounds() {
    let before = round(&[(7, "Old name", "Stikstof en landbouw"), (8, "Piet", "  ")]);
    let after = round(&[
        (7, "New name", "Stikstof"),
        (7, "New name", "en de natuur"),
        (8, "Piet", "Natuur"),
    ]);
    let c = changes(&before, &after, Lang::Nl);
    assert_eq!(c.members.len(), 1);
    assert_eq!(c.members[0].name, "New name");
    assert_eq!(displays(&c.members[0].added), ["natuur"]);
    assert_eq!(displays(&c.members[0].dropped), ["landbouw"]);
    assert_eq!(c.members[0].similarity, 1.0 / 3.0);
    assert_eq!(
        c.joined,
        [MemberRef {
            id: 8,
            name: "Piet".into()
        }]
    );
    assert_eq!(
        c.new_themes
            .iter()
            .map(|t| t.display.as_str())
            .collect::<Vec<_>>(),
        ["natuur"]
    );

    let nothing = changes(&[], &[], Lang::En);
    assert!(nothing.members.is_empty() && nothing.new_themes.is_empty());
    assert!(nothing.left.is_empty() && nothing.joined.is_empty());
    // Same words, no terms: nothing changed.
    let same = changes(
        &round(&[(1, "a", "ok")]),
        &round(&[(1, "a", "ja")]),
        Lang::Nl,
    );
    assert_eq!(same.members[0].similarity, 1.0);
}

#[test]
fn output_is_deterministic() {
    let set = extended(NL_LONG_AGREE, NL_MORE_AGREE);
    let a = agreement(&set, Lang::Nl);
    let b = agreement(&set.clone(), Lang::Nl);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.summary(), b.summary());
    assert_eq!(
        key_terms(&set[0].1, Lang::Nl),
        key_terms(&set[0].1, Lang::Nl)
    );

    let c1 = changes(&round(FIRST), &round(SECOND), Lang::Nl);
    let c2 = changes(&round(FIRST), &round(SECOND), Lang::Nl);
    assert_eq!(c1, c2);
    // The order in which answers arrive does not matter for the change report.
    let mut shuffled = round(SECOND);
    shuffled.reverse();
    let mut first = round(FIRST);
    first.rotate_left(2);
    assert_eq!(changes(&first, &shuffled, Lang::Nl), c1);
}

#[test]
fn outputs_serialize_for_templates() {
    let a = agreement(&answers(NL_AGREE), Lang::Nl);
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["verdict"], "converging");
    assert_eq!(v["unscored"], serde_json::Value::Null);
    assert_eq!(v["shared"][0]["display"], "congestie");
    assert_eq!(v["reasoning"]["compared"], 5);
    let one = serde_json::to_value(agreement(&answers(&[("a", "x y z")]), Lang::Nl)).unwrap();
    assert_eq!(one["unscored"], "one_answer");
    let c = serde_json::to_value(changes(&round(FIRST), &round(SECOND), Lang::Nl)).unwrap();
    assert_eq!(c["new_themes"][0]["display"], "netcongestie");
}

#[test]
fn summary_is_plain_and_complete() {
    let a = agreement(&answers(NL_SCATTER), Lang::Nl);
    assert_eq!(
        a.summary(),
        format!(
            "scattered score={:.2} reach={:.2} compared=5 apart=0 pairs=10 shared=1/{} [landbouw×2]",
            a.score.unwrap(),
            a.reasoning.reach,
            a.reasoning.distinct_terms,
        )
    );
    let none = agreement(&[], Lang::En);
    assert!(none.summary().starts_with("unscored:NoAnswers"));
}

/// A small deterministic generator (xorshift64), so generated rounds are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

/// Words for generated answers: Dutch and English subjects, Dutch compounds with and without
/// their heads, grammatical words that decide an answer's language, stop words, numbers,
/// acronyms and accents.
const GENERATED_WORDS: &str =
    "netcongestie congestie net stroomnet Netbeheerder woningbouw woningen woning \
     stikstofuitstoot uitstoot stikstof eenzaamheid ouderen waterschap water energietransitie \
     transitie gemeente provincie coöperatie RES co2 2026 de het een van op niet en wij grid \
     congestion housing houses the of and not farmers nitrogen loneliness is we";

/// A round of up to 40 answers, some blank, some without a term, in both languages.
fn generated_round(rng: &mut XorShift) -> Vec<(u64, String, String)> {
    let vocabulary: Vec<&str> = GENERATED_WORDS.split_whitespace().collect();
    let n = rng.below(41);
    (0..n)
        .map(|i| {
            let words = rng.below(12);
            let text = (0..words)
                .map(|_| vocabulary[rng.below(vocabulary.len())])
                .collect::<Vec<_>>()
                .join([" ", " ", ", ", ". "][rng.below(4)]);
            // Now and then a member answers twice.
            let id = if rng.below(10) == 0 { 0 } else { i as u64 + 1 };
            (id, format!("lid{i}"), text)
        })
        .collect()
}

/// The score and reach by their definition, pair by pair: the mean over ordered pairs of
/// answers with terms in the same language of |A∩B| / |A|, and the mean over those answers of
/// the share of the others that use the answer's most widely used term. Also the number of
/// answers compared and of unordered pairs.
fn pairwise(answers: &[(String, String)], channel: Lang) -> (f64, f64, usize, usize) {
    let mut lexicon = Lexicon::new();
    let round = Round::of_named(&mut lexicon, answers, channel);
    let with_terms: Vec<(Lang, BTreeSet<&str>)> = round
        .members
        .iter()
        .filter(|m| !m.terms.is_empty())
        .map(|m| {
            (
                m.lang,
                m.terms.iter().map(|&(t, _)| lexicon.str(t)).collect(),
            )
        })
        .collect();
    let (mut overlap, mut ordered, mut reach, mut compared) = (0.0, 0usize, 0.0, 0usize);
    for (i, (lang, a)) in with_terms.iter().enumerate() {
        let others: Vec<&BTreeSet<&str>> = with_terms
            .iter()
            .enumerate()
            .filter(|&(j, (l, _))| j != i && l == lang)
            .map(|(_, (_, b))| b)
            .collect();
        if others.is_empty() {
            continue;
        }
        compared += 1;
        for b in &others {
            overlap += a.intersection(b).count() as f64 / a.len() as f64;
            ordered += 1;
        }
        let widest = a
            .iter()
            .map(|t| others.iter().filter(|b| b.contains(t)).count())
            .max()
            .unwrap_or(0);
        reach += widest as f64 / others.len() as f64;
    }
    let mean = |sum: f64, n: usize| if n == 0 { 0.0 } else { sum / n as f64 };
    (
        mean(overlap, ordered),
        mean(reach, compared),
        compared,
        ordered / 2,
    )
}

#[test]
fn the_counted_score_is_the_pairwise_definition() {
    let mut rng = XorShift(0x5eed_2026);
    let mut scored = 0;
    for _ in 0..500 {
        let round = generated_round(&mut rng);
        let named: Vec<(String, String)> = round
            .iter()
            .map(|(_, n, t)| (n.clone(), t.clone()))
            .collect();
        let channel = if rng.below(2) == 0 {
            Lang::Nl
        } else {
            Lang::En
        };
        let a = agreement(&named, channel);
        let (score, reach, compared, pairs) = pairwise(&named, channel);
        let r = &a.reasoning;
        assert_eq!((r.compared, r.pairs), (compared, pairs), "{named:?}");
        assert!(
            (r.score - score).abs() < 1e-10,
            "{} vs {score}: {named:?}",
            r.score
        );
        assert!(
            (r.reach - reach).abs() < 1e-10,
            "{} vs {reach}: {named:?}",
            r.reach
        );
        assert_eq!(a.score.is_some(), pairs > 0, "{named:?}");
        if a.score.is_some() {
            scored += 1;
        }
    }
    // The generator makes rounds of every kind, most of them with a score.
    assert!(scored > 250, "{scored} of 500 rounds scored");
}

#[test]
fn a_reveal_measures_what_agreement_and_changes_measure() {
    let mut rng = XorShift(0xc0ffee);
    for _ in 0..300 {
        let before = generated_round(&mut rng);
        let now = generated_round(&mut rng);
        let channel = if rng.below(2) == 0 {
            Lang::Nl
        } else {
            Lang::En
        };
        let named: Vec<(String, String)> =
            now.iter().map(|(_, n, t)| (n.clone(), t.clone())).collect();
        let (a, c) = reveal(&now, Some(&before), channel);
        assert_eq!(a, agreement(&named, channel));
        assert_eq!(c, Some(changes(&before, &now, channel)));
        let (alone, none) = reveal(&now, None, channel);
        assert_eq!(alone, a);
        assert_eq!(none, None);
    }
}
