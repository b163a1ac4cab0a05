//! `spendstream chat --understand`: chat messages on stdin, one a line; one JSON
//! understanding a line on stdout. Reads and changes no data.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::Context as _;
use spendstream_bot::understand::{Context, DateOrder, understand};
use spendstream_core::{Config, Currency};
use spendstream_processors::categorise::Categoriser;

use crate::cli::DateOrderArg;

/// Longest part of a line kept; the rest is skipped (the bot refuses messages over
/// 4 KiB anyway, with a question).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Flags of `chat --understand`.
pub struct Options {
    /// Currency code overriding `defaults.currency`.
    pub currency: Option<String>,
    /// Time zone overriding `defaults.time_zone`.
    pub tz: Option<String>,
    /// Fixed today (YYYY-MM-DD).
    pub today: Option<String>,
    /// Reading of `12/10`.
    pub date_order: DateOrderArg,
}

/// Prints one JSON understanding per stdin line (empty lines included, so output lines
/// match input lines), with the config's categories and SMS rules.
pub fn understand_lines(config: &Config, opts: Options) -> anyhow::Result<()> {
    let currency = match &opts.currency {
        Some(code) => Currency::parse(code).with_context(|| format!("--currency {code}"))?,
        None => config.defaults.currency,
    };
    let tz_name = opts.tz.clone().unwrap_or_else(|| config.defaults.time_zone.clone());
    let tz = spendstream_core::period::parse_time_zone(&tz_name).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
    let fixed_today = match &opts.today {
        Some(d) => Some(d.parse::<jiff::civil::Date>().with_context(|| format!("--today {d}: expected YYYY-MM-DD"))?),
        None => None,
    };
    let date_order = match opts.date_order {
        DateOrderArg::DayMonth => DateOrder::DayMonth,
        DateOrderArg::MonthDay => DateOrder::MonthDay,
        DateOrderArg::Ask => DateOrder::Ask,
    };
    let categoriser = Arc::new(Categoriser::new(&config.categories)?);
    let sms_rules = spendstream_ingest::pipeline::load_rules(&config.ingest).map_err(anyhow::Error::msg)?;
    let mut ctx =
        Context::new(currency, fixed_today.unwrap_or_else(|| today_in(&tz)), categoriser).with_date_order(date_order);
    ctx.sms_rules = Some(sms_rules);

    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    while read_line(&mut input, &mut line)? {
        if fixed_today.is_none() {
            // A long session may cross midnight.
            ctx.today = today_in(&tz);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        serde_json::to_writer(&mut out, &understand(text, &ctx))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn today_in(tz: &jiff::tz::TimeZone) -> jiff::civil::Date {
    spendstream_core::period::local_date(jiff::Timestamp::now(), tz)
}

/// Reads one line without its `\n` into `buf`, keeping at most [`MAX_LINE_BYTES`];
/// `false` at the end of input.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let end = chunk.iter().position(|&b| b == b'\n');
        let part = &chunk[..end.unwrap_or(chunk.len())];
        let room = MAX_LINE_BYTES.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let taken = end.map_or(chunk.len(), |i| i + 1);
        input.consume(taken);
        if end.is_some() {
            return Ok(true);
        }
    }
}

