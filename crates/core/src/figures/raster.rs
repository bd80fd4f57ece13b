//! The port through which the engine gets a figure as PNG: the core draws SVG only, and
//! whoever runs the engine brings the renderer and its fonts.

/// Draws one of our SVGs as PNG: injected by whoever runs the engine, since rasterizing needs a
/// renderer and fonts the core does without.
pub trait Raster: Send + Sync {
    /// PNG bytes `width_px` wide; the height follows the figure's aspect ratio.
    fn png(&self, svg: &str, width_px: u32) -> anyhow::Result<Vec<u8>>;
}
