//! Figures as PNG: the engine's figures are SVG, and chat clients show PNG attachments inline.
//! Drawn with resvg and the DejaVu Sans the core builds in (`assets/fonts/`), because a fresh
//! server has no fonts at all; injected into the engine as its [`Raster`].

use crate::figures::{Raster, BOLD_TTF, REGULAR_TTF};

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use resvg::{tiny_skia, usvg};

/// Beyond this a PNG is a mistake (or an attack), not a figure.
const MAX_PNG_SIDE: u32 = 8192;

/// The rasterizer the binary gives the engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resvg;

impl Raster for Resvg {
    fn png(&self, svg: &str, width_px: u32) -> anyhow::Result<Vec<u8>> {
        png(svg, width_px)
    }
}

/// Rasterizes one of our SVGs with the embedded font; PNG bytes. The height follows the
/// figure's aspect ratio.
pub fn png(svg: &str, width_px: u32) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        (1..=MAX_PNG_SIDE).contains(&width_px),
        "a figure is between 1 and {MAX_PNG_SIDE} pixels wide, not {width_px}"
    );
    let options = usvg::Options {
        font_family: "DejaVu Sans".to_owned(),
        fontdb: fonts(),
        // Our SVGs reference nothing outside themselves; refusing keeps a crafted SVG from
        // reading local files.
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).context("the figure is not a valid SVG")?;
    let size = tree.size();
    let scale = width_px as f32 / size.width();
    let height = (size.height() * scale).round().max(1.0);
    anyhow::ensure!(
        height <= MAX_PNG_SIDE as f32,
        "the figure would be {height} pixels high"
    );
    let mut pixmap = tiny_skia::Pixmap::new(width_px, height as u32)
        .context("cannot allocate the figure's pixels")?;
    // Chat clients in dark mode would show a transparent background as black behind black text.
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .context("cannot encode the figure as PNG")
}

/// The embedded fonts, loaded once: parsing 1.4 MB of font per figure would be wasted work.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(REGULAR_TTF)));
            db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(BOLD_TTF)));
            // The other names in FONT_FAMILY (Verdana, Arial) are for browsers; here the
            // generic family must land on DejaVu Sans too.
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::examples::*;
    use crate::figures::{
        doing_learning_svg, quadrant_svg, text_width, DoingLearningFigure, QuadrantFigure,
        FONT_FAMILY,
    };

    struct Picture {
        width: u32,
        height: u32,
        pixels: Vec<[u8; 3]>,
    }

    impl Picture {
        fn decode(png_bytes: &[u8]) -> Picture {
            let pixmap = tiny_skia::Pixmap::decode_png(png_bytes).expect("a valid PNG");
            let pixels = pixmap
                .pixels()
                .iter()
                .map(|p| {
                    let c = p.demultiply();
                    [c.red(), c.green(), c.blue()]
                })
                .collect();
            Picture {
                width: pixmap.width(),
                height: pixmap.height(),
                pixels,
            }
        }

        /// Text and grid lines; the accent blue (blue channel 121) is not counted.
        fn dark(&self) -> usize {
            self.pixels
                .iter()
                .filter(|p| p.iter().all(|&c| c < 80))
                .count()
        }

        fn colours(&self) -> usize {
            self.pixels
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        }
    }

    fn check_picture(svg: &str, width: u32) -> Picture {
        let picture = Picture::decode(&png(svg, width).expect("renders"));
        let (vw, vh) = view_box(svg);
        assert_eq!(picture.width, width);
        assert_eq!(picture.height, (vh * width as f32 / vw).round() as u32);
        assert!(picture.colours() > 50, "only {} colours", picture.colours());
        assert!(picture.dark() > 1000, "only {} dark pixels", picture.dark());
        picture
    }

    /// `labelled` drawn `width` wide has its size and shows its text: far more dark pixels
    /// than `bare`, the same figure without any label, where only grid, marks and numbers
    /// remain. If the embedded font did not load, both would lack text and the difference
    /// would vanish.
    fn check_text_drawn(labelled: &str, bare: &str, width: u32) {
        let labelled = check_picture(labelled, width);
        let bare = Picture::decode(&png(bare, width).unwrap());
        assert!(
            labelled.dark() > bare.dark() * 2 + 2000,
            "labelled {} vs bare {} dark pixels",
            labelled.dark(),
            bare.dark()
        );
    }

    #[test]
    fn quadrant_png_has_the_requested_size_and_visible_text() {
        check_text_drawn(
            &quadrant_svg(&dutch_quadrant([1, 3, 2, 1])),
            &quadrant_svg(&blank_quadrant([1, 3, 2, 1])),
            800,
        );
    }

    #[test]
    fn doing_learning_png_has_the_requested_size_and_visible_text() {
        check_text_drawn(
            &doing_learning_svg(&dutch_doing_learning()),
            &doing_learning_svg(&blank_doing_learning()),
            1000,
        );
    }

    #[test]
    fn the_embedded_font_is_the_only_font() {
        let db = fonts();
        let families: std::collections::BTreeSet<String> = db
            .faces()
            .flat_map(|f| f.families.iter().map(|(name, _)| name.clone()))
            .collect();
        assert_eq!(db.len(), 2);
        assert_eq!(families.into_iter().collect::<Vec<_>>(), ["DejaVu Sans"]);
    }

    /// The wrap estimate must match what resvg really draws with the embedded font, or cells
    /// overflow; a stale metrics table fails here.
    #[test]
    fn width_estimate_matches_the_embedded_font() {
        let samples = [
            "Participerende overheid",
            "Maatschappelijke samenwerking",
            "Veel opbrengst en veel breder toepasbare lessen: de sweet spot.",
            "WWW mmm iii ëéèçñ ÄÖÜß 0123456789 – “quotes” …",
        ];
        for bold in [false, true] {
            for sample in samples {
                let weight = if bold { "bold" } else { "normal" };
                let svg = format!(
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4000\" height=\"100\" \
                     font-family=\"{FONT_FAMILY}\"><text x=\"0\" y=\"60\" font-size=\"40\" \
                     font-weight=\"{weight}\">{}</text></svg>",
                    // The samples hold no markup.
                    sample
                );
                let options = usvg::Options {
                    fontdb: fonts(),
                    ..usvg::Options::default()
                };
                let tree = usvg::Tree::from_str(&svg, &options).unwrap();
                let real = tree.root().abs_bounding_box().width();
                let estimate = text_width(sample, 40.0, bold);
                assert!(
                    real <= estimate && real >= estimate * 0.93,
                    "{sample:?} bold={bold}: drawn {real}, estimated {estimate}"
                );
            }
        }
    }

    #[test]
    fn png_refuses_absurd_sizes_and_foreign_input() {
        let svg = quadrant_svg(&dutch_quadrant([0; 4]));
        assert!(png(&svg, 0).is_err());
        assert!(png(&svg, MAX_PNG_SIDE + 1).is_err());
        assert!(png("not svg", 100).is_err());
    }

    /// Writes the Dutch figures where `ACADEMIE_FIGURES_DIR` points, to look at them.
    #[test]
    fn save_dutch_figures_when_asked() {
        let Ok(dir) = std::env::var("ACADEMIE_FIGURES_DIR") else {
            return;
        };
        let dir = std::path::Path::new(&dir);
        let q = quadrant_svg(&dutch_quadrant([1, 3, 2, 1]));
        let d = doing_learning_svg(&dutch_doing_learning());
        std::fs::write(dir.join("figures-quadrant.svg"), &q).unwrap();
        std::fs::write(dir.join("figures-doing-learning.svg"), &d).unwrap();
        std::fs::write(dir.join("figures-quadrant.png"), png(&q, 1280).unwrap()).unwrap();
        std::fs::write(
            dir.join("figures-doing-learning.png"),
            png(&d, 1280).unwrap(),
        )
        .unwrap();
        let c = quadrant_svg(&dutch_quadrant([0; 4]));
        std::fs::write(
            dir.join("figures-quadrant-plain.png"),
            png(&c, 1280).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn hostile_labels_still_draw_one_picture() {
        for svg in [
            quadrant_svg(&hostile_quadrant()),
            doing_learning_svg(&hostile_doing_learning()),
        ] {
            png(&svg, 320).expect("renders");
        }
    }

    #[test]
    fn output_is_deterministic() {
        let svg = quadrant_svg(&dutch_quadrant([4, 0, 7, 1]));
        assert_eq!(png(&svg, 640).unwrap(), png(&svg, 640).unwrap());
    }

    #[test]
    fn zero_counts_and_nothing_still_draw_a_picture() {
        check_picture(&quadrant_svg(&dutch_quadrant([0, 0, 0, 0])), 640);
        // Nothing at all still makes a (bare) picture rather than an error.
        for svg in [
            quadrant_svg(&QuadrantFigure::default()),
            doing_learning_svg(&DoingLearningFigure::default()),
        ] {
            let picture = Picture::decode(&png(&svg, 320).unwrap());
            assert_eq!(picture.width, 320);
            let inked = picture.pixels.iter().filter(|p| **p != [255; 3]).count();
            assert!(inked > 500, "the grid is drawn");
        }
    }
}
