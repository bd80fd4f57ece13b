//! The figures as tests draw them: the Dutch texts, without labels, and with hostile labels;
//! public (hidden) because the rasterizer's tests draw the same ones.

use super::*;

/// The Dutch texts of `prompts/nl/academy.toml`, copied so these tests do not depend on the
/// catalog's shape.
pub fn dutch_quadrant(counts: [u32; 4]) -> QuadrantFigure {
    QuadrantFigure {
        title: "Vier perspectieven op sturing".to_owned(),
        caption: "Welk leidend principe kozen de samenwerkingen in deze ronde?".to_owned(),
        names: [
            "Rechtmatige overheid".to_owned(),
            "Presterende overheid".to_owned(),
            "Netwerkende overheid".to_owned(),
            "Participerende overheid".to_owned(),
        ],
        basic_forms: [
            "Meerlaags bestuur".to_owned(),
            "Meerlaags management".to_owned(),
            "Netwerkende samenwerking".to_owned(),
            "Maatschappelijke samenwerking".to_owned(),
        ],
        counts,
    }
}

pub fn dutch_doing_learning() -> DoingLearningFigure {
    DoingLearningFigure {
        title: "Doen en leren".to_owned(),
        yield_axis: "Opbrengst".to_owned(),
        lessons_axis: "Lessen".to_owned(),
        little: "weinig".to_owned(),
        much: "veel".to_owned(),
        few: "weinig".to_owned(),
        many: "veel".to_owned(),
        cells: [
            "Weinig opbrengst en weinig lessen: het enige veld zonder toegevoegde waarde."
                .to_owned(),
            "Weinig opbrengst maar veel lessen: het ging niet goed, maar we hebben er veel van geleerd.".to_owned(),
            "Veel opbrengst maar weinig lessen: het werkte, maar wat werkte er eigenlijk?"
                .to_owned(),
            "Veel opbrengst en veel breder toepasbare lessen: de sweet spot.".to_owned(),
        ],
        counts: Some([1, 2, 3, 5]),
        marks: vec![(0.1, 0.2), (0.8, 0.9), (0.7, 0.3), (0.3, 0.75), (0.9, 0.6)],
        placed: String::new(),
    }
}

pub fn blank_quadrant(counts: [u32; 4]) -> QuadrantFigure {
    QuadrantFigure {
        counts,
        ..QuadrantFigure::default()
    }
}

pub fn blank_doing_learning() -> DoingLearningFigure {
    DoingLearningFigure {
        counts: Some([1, 2, 3, 5]),
        marks: dutch_doing_learning().marks,
        ..DoingLearningFigure::default()
    }
}

pub const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\" {{x}} ]]> \u{1}\u{fffe}";

pub fn hostile_quadrant() -> QuadrantFigure {
    QuadrantFigure {
        title: HOSTILE.to_owned(),
        caption: HOSTILE.to_owned(),
        names: std::array::from_fn(|_| HOSTILE.to_owned()),
        basic_forms: std::array::from_fn(|_| HOSTILE.to_owned()),
        counts: [1, 0, 2, 3],
    }
}

pub fn hostile_doing_learning() -> DoingLearningFigure {
    DoingLearningFigure {
        title: HOSTILE.to_owned(),
        yield_axis: HOSTILE.to_owned(),
        lessons_axis: HOSTILE.to_owned(),
        little: HOSTILE.to_owned(),
        much: HOSTILE.to_owned(),
        few: HOSTILE.to_owned(),
        many: HOSTILE.to_owned(),
        cells: std::array::from_fn(|_| HOSTILE.to_owned()),
        counts: Some([0, 1, 2, 3]),
        marks: vec![(f32::NAN, 0.5), (-3.0, 7.0), (0.5, f32::INFINITY)],
        placed: HOSTILE.to_owned(),
    }
}

/// (width, height) of a figure's viewBox, read from its `<svg>` tag; the core has no XML
/// parser outside its tests, and the rasterizer's tests read the same sizes.
pub fn view_box(svg: &str) -> (f32, f32) {
    let tag = &svg[svg.find("<svg").expect("an <svg> tag")..];
    let tag = &tag[..tag.find('>').expect("the <svg> tag ends")];
    let value = tag
        .split("viewBox=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("viewBox");
    let vb: Vec<f32> = value
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    (vb[2], vb[3])
}
