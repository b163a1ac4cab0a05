//! `spendstream chat`: the bot in the terminal, on the configured engines (the
//! embedded default: no tokens, no services). `spendstream chat --understand`: chat
//! messages on stdin, one a line; one JSON understanding a line on stdout, reading and
//! changing no data.

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

/// Runs the conversation engine on stdin and stdout as the local chat `name`: the
/// processors run in this process when the event log is embedded (as in `serve`), so it
/// refuses a data dir that a running `serve` processes. Buttons print as `[1] Undo`;
/// typing the number presses it. Ends at end of input (Ctrl-D).
pub async fn interactive(config: Config, name: &str) -> anyhow::Result<()> {
    use spendstream_bot::{Incoming, Input, Reply};
    use spendstream_core::chats::{Channel, ChatKey};
    use std::io::IsTerminal;

    let config = Arc::new(config);
    let key = ChatKey::new(Channel::Local, name).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    let ports = spendstream_backends::wiring::open(&config).await.context("opening backends")?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let embedded = config.backends.event_log == spendstream_core::config::EventLogKind::Embedded;
    let _processing = if embedded { spendstream_backends::wiring::lock_processing(&config)? } else { None };
    let processors = if embedded {
        let runner =
            spendstream_processors::runner::Runner::from_config(ports.log.clone(), ports.store.clone(), &config)
                .context("compiling category rules")?;
        let handle = tokio::spawn(runner.run(stop_rx));
        crate::serve::catch_up(&ports).await;
        Some(handle)
    } else {
        None
    };
    let engine = crate::serve::bot_engine(&config, &ports)?;

    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("spendstream chat as '{name}' (data in {}). Ctrl-D to leave.", config.storage.data_dir.display());
    }
    // Message ids must not repeat across runs: the dialogue remembers recent ones.
    let run = jiff::Timestamp::now().as_microsecond();
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::channel::<Option<String>>(16);
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        let mut line = Vec::new();
        loop {
            let next = match read_line(&mut input, &mut line) {
                Ok(true) => Some(String::from_utf8_lossy(&line).trim_end_matches('\r').to_owned()),
                _ => None,
            };
            let end = next.is_none();
            if lines_tx.blocking_send(next).is_err() || end {
                return;
            }
        }
    });
    let mut buttons: Vec<spendstream_bot::Button> = Vec::new();
    let mut n = 0u64;
    loop {
        if interactive {
            print!("you> ");
            std::io::stdout().flush()?;
        }
        let Some(Some(line)) = lines_rx.recv().await else { break };
        if line.trim().is_empty() {
            continue;
        }
        n += 1;
        let input = match line.trim().parse::<usize>().ok().and_then(|i| i.checked_sub(1)).and_then(|i| buttons.get(i))
        {
            Some(b) => Input::Button(b.data.clone()),
            None => Input::Text(line),
        };
        let msg = Incoming { chat: key.clone(), message_id: format!("{run}-{n}"), input, at: jiff::Timestamp::now() };
        let replies: Vec<Reply> = match engine.handle(&msg).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "message not handled");
                vec![Reply::new(engine.texts().get("unavailable").to_owned(), Vec::new())]
            }
        };
        let mut out = std::io::stdout().lock();
        for r in &replies {
            for (i, l) in r.text.lines().enumerate() {
                writeln!(out, "{}{l}", if i == 0 { "bot> " } else { "     " })?;
            }
            if let Some(file) = &r.attachment {
                // Charts under charts/, exports under exports/, in the data dir.
                let folder = if file.mime.starts_with("image/") { "charts" } else { "exports" };
                let dir = config.storage.data_dir.join(folder);
                let path = dir.join(&file.name);
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &file.bytes))?;
                let lead = if r.text.is_empty() { "bot> " } else { "     " };
                writeln!(out, "{lead}Saved to {}", path.display())?;
            }
            if !r.buttons.is_empty() {
                let labels: Vec<String> =
                    r.buttons.iter().enumerate().map(|(i, b)| format!("[{}] {}", i + 1, b.label)).collect();
                writeln!(out, "     {}", labels.join("  "))?;
            }
        }
        out.flush()?;
        if let Some(last) = replies.iter().rev().find(|r| !r.buttons.is_empty()) {
            buttons = last.buttons.clone();
        } else if !replies.is_empty() {
            buttons.clear();
        }
    }
    if let Some(p) = processors {
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), p).await;
    }
    Ok(())
}
