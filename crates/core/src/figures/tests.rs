//! What holds for both figures, and the ways the drawings' tests read an SVG back.

use super::examples::*;
use super::*;
use crate::domain::Perspective;

/// Texts of the SVG's visible `<text>` lines (not halos, not rotated) with their (x, y).
pub(super) fn texts(svg: &str) -> Vec<(String, f32, f32)> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("text")
                && n.attribute("x").is_some()
                && n.attribute("fill") != Some(PAPER)
        })
        .map(|n| {
            (
                n.text().unwrap_or_default().to_owned(),
                n.attribute("x").unwrap().parse().unwrap(),
                n.attribute("y").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Where the first line starting with `text` is (wrapping may have split the rest off).
pub(super) fn find(svg: &str, text: &str) -> (f32, f32) {
    let found = texts(svg);
    found
        .iter()
        .find(|(t, _, _)| text.starts_with(t.as_str()) && !t.is_empty())
        .map(|(_, x, y)| (*x, *y))
        .unwrap_or_else(|| panic!("no line {text:?} in {found:?}"))
}

#[test]
fn array_order_follows_the_domain() {
    assert_eq!(Perspective::ALL[LAWFUL], Perspective::Lawful);
    assert_eq!(Perspective::ALL[PERFORMING], Perspective::Performing);
    assert_eq!(Perspective::ALL[NETWORKING], Perspective::Networking);
    assert_eq!(Perspective::ALL[PARTICIPATING], Perspective::Participating);
}

#[test]
fn hostile_labels_stay_text() {
    for svg in [
        quadrant_svg(&hostile_quadrant()),
        doing_learning_svg(&hostile_doing_learning()),
    ] {
        let doc = roxmltree::Document::parse(&svg).expect("well-formed despite the labels");
        let tags: std::collections::BTreeSet<&str> = doc
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert!(!tags.contains("script"), "{tags:?}");
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(title, "<script>alert('x')</script> & \"quoted\" {{x}} ]]>");
        assert!(texts(&svg).iter().any(|(t, _, _)| t.contains("<script>")));
    }
}

#[test]
fn output_is_deterministic() {
    let q = dutch_quadrant([4, 0, 7, 1]);
    assert_eq!(quadrant_svg(&q), quadrant_svg(&q.clone()));
    let d = dutch_doing_learning();
    assert_eq!(doing_learning_svg(&d), doing_learning_svg(&d.clone()));
}

#[test]
fn shares_never_contradict_their_marks() {
    assert_eq!(percent(3, 7), "43%");
    assert_eq!(percent(1, 1000), "<1%");
    assert_eq!(percent(999, 1000), ">99%");
    assert_eq!(percent(5, 5), "100%");
    assert_eq!(percent(0, 5), "0%");
}
