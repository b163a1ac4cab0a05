//! Report charts: one PNG, readable on a phone, with spending by category and its
//! trend over the period. Drawn with plotters in the bundled DejaVu Sans, so no
//! system font or library is needed.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// DejaVu Sans (free licence: `bot/assets/fonts/LICENSE`).
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
/// The family every text of a chart is drawn in.
const FAMILY: &str = "sans-serif";
/// Width of a chart in pixels.
pub const WIDTH: u32 = 800;
/// Height of the trend under the category bars.
pub const TREND_HEIGHT: u32 = 400;
/// Categories drawn as their own bar; the rest are summed into the last one.
pub const MAX_BARS: usize = 8;
/// Where the first category bar starts, and the height of each.
const BARS_TOP: i32 = 182;
const BAR_ROW: i32 = 50;

const INK: RGBColor = RGBColor(33, 37, 41);
const MUTED: RGBColor = RGBColor(108, 117, 125);
const GRID: RGBColor = RGBColor(222, 226, 230);
const TREND: RGBColor = RGBColor(13, 110, 253);
/// Bar colours, one per category row (colour-blind safe, after Okabe and Ito).
const PALETTE: [RGBColor; MAX_BARS] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(120, 120, 120),
];

/// One bar: what it is, its size, and the amount written beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Category name, or the day / month under a trend bar.
    pub label: String,
    /// Size in minor units (negative values draw as zero).
    pub value: i64,
    /// The amount as the user reads it (`₹1,250.00`); unused for trend bars.
    pub shown: String,
}

/// What a report chart shows; every text already in the user's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// Top line, e.g. `November 2026`.
    pub title: String,
    /// Under it, e.g. `Spent ₹12,340.00 · 42 entries`.
    pub subtitle: String,
    /// Heading of the category bars.
    pub categories_title: String,
    /// Categories, largest first; more than [`MAX_BARS`] are folded by [`Chart::fold`].
    pub categories: Vec<Bar>,
    /// Heading of the trend.
    pub trend_title: String,
    /// Spending per day or month, in order; empty draws no trend.
    pub trend: Vec<Bar>,
    /// Minor units in one major unit (100 for ₹ and $), for the trend's axis.
    pub minor_per_major: i64,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart not drawn: {0}")]
pub struct ChartError(String);

impl Chart {
    /// Keeps [`MAX_BARS`]` - 1` categories and sums the rest into one bar called
    /// `other` (written with `shown`), so that every bar stays readable.
    pub fn fold(&mut self, other: &str, shown: impl Fn(i64) -> String) {
        if self.categories.len() <= MAX_BARS {
            return;
        }
        let rest: i64 = self.categories.drain(MAX_BARS - 1..).map(|b| b.value).sum();
        self.categories.push(Bar { label: other.to_owned(), value: rest, shown: shown(rest) });
    }

    /// Where the category bars end (and the trend starts).
    fn bars_end(&self) -> i32 {
        let rows = i32::try_from(self.categories.len().clamp(1, MAX_BARS)).unwrap_or(1);
        BARS_TOP + BAR_ROW * rows + 24
    }

    /// Height of the picture: as many bar rows as categories, then the trend if any.
    pub fn height(&self) -> u32 {
        let bars = u32::try_from(self.bars_end()).unwrap_or(0);
        if self.trend.is_empty() { bars } else { bars + TREND_HEIGHT }
    }
}

fn font_ready() -> Result<(), ChartError> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, FONT).map_err(|_| "the bundled font is unreadable".to_owned())
        })
        .clone()
        .map_err(ChartError)
}

/// Draws `chart` as a PNG (RGB, [`WIDTH`] × [`Chart::height`]).
pub fn render(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    font_ready()?;
    let (w, h) = (WIDTH, chart.height());
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, chart).map_err(|e| ChartError(e.to_string()))?;
        root.present().map_err(|e| ChartError(e.to_string()))?;
    }
    encode(&rgb, w, h)
}

fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().map_err(|e| ChartError(e.to_string()))?;
    writer.write_image_data(rgb).map_err(|e| ChartError(e.to_string()))?;
    writer.finish().map_err(|e| ChartError(e.to_string()))?;
    Ok(out)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// `12.5k`, `34M`, `950`: axis labels of whole major units.
fn compact(major: i64) -> String {
    let (unit, suffix) = match major.abs() {
        a if a >= 10_000_000 => (1_000_000, "M"),
        a if a >= 10_000 => (1_000, "k"),
        _ => return major.to_string(),
    };
    let tenths = (major * 10 + unit / 2) / unit;
    if tenths.abs() >= 1_000 {
        format!("{}{suffix}", (major + unit / 2) / unit)
    } else if tenths % 10 == 0 {
        format!("{}{suffix}", tenths / 10)
    } else {
        format!("{}.{}{suffix}", tenths / 10, tenths % 10)
    }
}

fn text(size: u32, color: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(color)
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Drawn<DB> {
    root.fill(&WHITE)?;
    root.draw_text(&clip(&chart.title, 34), &text(40, &INK), (40, 28))?;
    root.draw_text(&clip(&chart.subtitle, 52), &text(24, &MUTED), (40, 84))?;
    root.draw_text(&clip(&chart.categories_title, 52), &text(24, &INK), (40, 140))?;

    let max = chart.categories.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let (bar_left, bar_span) = (270, 330);
    for (i, bar) in chart.categories.iter().take(MAX_BARS).enumerate() {
        let y = BARS_TOP + BAR_ROW * i as i32;
        root.draw_text(&clip(&bar.label, 18), &text(21, &INK), (40, y + 5))?;
        let width = i32::try_from(i128::from(bar.value.max(0)) * i128::from(bar_span) / i128::from(max)).unwrap_or(0);
        let color = PALETTE[i % PALETTE.len()];
        root.draw(&Rectangle::new([(bar_left, y), (bar_left + width.max(2), y + 32)], color.filled()))?;
        root.draw_text(&clip(&bar.shown, 16), &text(19, &INK), (bar_left + width.max(2) + 10, y + 7))?;
    }
    if chart.trend.is_empty() {
        return Ok(());
    }

    let (_, lower) = root.split_vertically(chart.bars_end());
    // The axis counts minor units; labels say major ones.
    let per = chart.minor_per_major.max(1);
    let values: Vec<i64> = chart.trend.iter().map(|b| b.value.max(0)).collect();
    let top = values.iter().copied().max().unwrap_or(0);
    let top = if top > 0 { top + top / 10 } else { per };
    let n = values.len();
    let step = n.div_ceil(12).max(1);
    let mut plot = ChartBuilder::on(&lower)
        .caption(clip(&chart.trend_title, 52), text(24, &INK))
        .margin_left(30)
        .margin_right(30)
        .margin_bottom(20)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n).into_segmented(), 0..top)?;
    let labels = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if *i % step == 0 => chart.trend.get(*i).map(|b| b.label.clone()).unwrap_or_default(),
        _ => String::new(),
    };
    plot.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_labels(n)
        .y_labels(5)
        .x_label_formatter(&labels)
        .y_label_formatter(&|y| compact(*y / per))
        .label_style(text(17, &MUTED))
        .draw()?;
    plot.draw_series(values.iter().enumerate().map(|(i, v)| {
        let mut r = Rectangle::new([(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), *v)], TREND.filled());
        r.set_margin(0, 0, 2, 2);
        r
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar { label: label.into(), value, shown: format!("${}", value / 100) }
    }

    fn chart(categories: Vec<Bar>, trend: Vec<Bar>) -> Chart {
        Chart {
            title: "November 2026".into(),
            subtitle: "Spent $400 · 3 entries".into(),
            categories_title: "By category".into(),
            categories,
            trend_title: "Spent per day".into(),
            trend,
            minor_per_major: 100,
        }
    }

    /// The decoded picture: (width, height, RGB bytes).
    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        (info.width, info.height, buf)
    }

    fn is(px: &[u8], c: RGBColor) -> bool {
        px == [c.0, c.1, c.2]
    }

    /// Pixels of colour `c` in row `y`.
    fn run(img: &(u32, u32, Vec<u8>), y: u32, c: RGBColor) -> usize {
        let (w, _, rgb) = img;
        (0..*w).filter(|x| is(&rgb[((y * w + x) * 3) as usize..][..3], c)).count()
    }

    /// Pixels of colour `c` in column `x`.
    fn column(img: &(u32, u32, Vec<u8>), x: u32, c: RGBColor) -> usize {
        let (w, h, rgb) = img;
        (0..*h).filter(|y| is(&rgb[((y * w + x) * 3) as usize..][..3], c)).count()
    }

    #[test]
    fn bars_are_as_long_as_their_amounts() {
        let trend = vec![bar("1", 100), bar("2", 0), bar("3", 300)];
        let c = chart(vec![bar("Food", 30_000), bar("Transport", 10_000)], trend);
        let img = decode(&render(&c).expect("drawn"));
        assert_eq!((img.0, img.1), (WIDTH, c.height()));
        assert_eq!(c.height(), 182 + 2 * 50 + 24 + TREND_HEIGHT, "two bar rows, then the trend");
        // Row middles of the first two category bars.
        let (food, transport) = (run(&img, 182 + 16, PALETTE[0]), run(&img, 232 + 16, PALETTE[1]));
        assert_eq!(food, 330, "the largest bar spans the whole width");
        assert!((108..=112).contains(&transport), "a third of it: {transport}");
        // Trend: the third day's column is three times the first's, the second empty.
        let cols: Vec<usize> = (0..WIDTH).map(|x| column(&img, x, TREND)).collect();
        let tallest = *cols.iter().max().expect("columns");
        let first = cols.iter().copied().find(|&n| n > 0).expect("a first bar");
        assert!(tallest > 200 && (29..=31).contains(&(tallest * 10 / first)), "{first} vs {tallest}");
    }

    #[test]
    fn no_trend_draws_a_shorter_picture_and_many_categories_fold() {
        let many: Vec<Bar> = (0..12).map(|i| bar(&format!("c{i}"), 1_000 * (12 - i))).collect();
        let mut c = chart(many, Vec::new());
        c.fold("Other", |v| format!("${}", v / 100));
        assert_eq!(c.categories.len(), MAX_BARS);
        let other = c.categories.last().expect("other");
        assert_eq!((other.label.as_str(), other.value), ("Other", 1_000 * (5 + 4 + 3 + 2 + 1)));
        let img = decode(&render(&c).expect("drawn"));
        assert_eq!((img.0, img.1), (WIDTH, c.height()));
        assert_eq!(c.height(), 182 + 8 * 50 + 24, "eight bar rows, no trend");
        // Nothing spent at all still draws (a zero bar is a sliver, not a division by zero).
        let zero = chart(vec![bar("Food", 0)], vec![bar("1", 0)]);
        assert!(render(&zero).is_ok());
    }

    #[test]
    fn long_and_odd_labels_are_clipped_not_refused() {
        let label = "x".repeat(500) + "\u{0}\u{202e}🍽️";
        let c = chart(vec![bar(&label, 100)], vec![bar(&label, 1)]);
        assert!(render(&c).is_ok());
        assert_eq!(clip("Food & dining", 18), "Food & dining");
        assert_eq!(clip("Bills and utilities here", 10).chars().count(), 10);
    }

    #[test]
    fn compact_labels() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(9_999), "9999");
        assert_eq!(compact(12_500), "12.5k");
        assert_eq!(compact(40_000), "40k");
        assert_eq!(compact(123_456), "123k");
        assert_eq!(compact(12_000_000), "12M");
        assert_eq!(compact(0), "0");
    }
}
