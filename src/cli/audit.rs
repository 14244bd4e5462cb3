//! `twofold audit`: the audit trail of security events, newest first.

use anyhow::bail;
use clap::Args;

use crate::clock::now;
use crate::config::Config;
use crate::store::AuditQuery;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    action: Option<AuditAction>,
    /// Only events whose actor or target is this user.
    #[arg(long)]
    user: Option<String>,
    /// Only events this recent: a duration (`30m`, `12h`, `7d`) or unix seconds.
    #[arg(long)]
    since: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum AuditAction {
    /// Delete old events now (`serve` does it every 10 minutes after
    /// log.audit_retention_days).
    Prune {
        /// Events older than this (`90d`, `12h`, unix seconds); default: the retention.
        #[arg(long)]
        older_than: Option<String>,
    },
}

/// `30m`, `12h`, `7d`, `90s` before `now`, or an absolute unix time.
fn parse_since(text: &str, now: i64) -> anyhow::Result<i64> {
    let text = text.trim();
    if let Ok(unix) = text.parse::<i64>() {
        return Ok(unix);
    }
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("--since {text:?}: use e.g. 30m, 12h, 7d or unix seconds"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("--since {text:?}: the unit must be s, m, h or d"),
    };
    Ok(now - n.saturating_mul(secs))
}

pub async fn run(args: AuditArgs, config: &Config) -> anyhow::Result<()> {
    if let Some(AuditAction::Prune { older_than }) = &args.action {
        let before = match older_than {
            Some(text) => parse_since(text, now())?,
            None => match config.audit_cutoff(now()) {
                Some(before) => before,
                None => bail!(
                    "log.audit_retention_days is 0 (keep everything): say --older-than to prune"
                ),
            },
        };
        let store = super::open_store(config).await?;
        let pruned = store.prune_audit(before).await;
        let size = store.audit_size().await;
        store.close().await;
        let (left, _) = size?;
        println!(
            "deleted {} audit events older than {}; {left} remain",
            pruned?,
            crate::clock::format_time(before)
        );
        return Ok(());
    }
    if !(1..=100_000).contains(&args.limit) {
        bail!("--limit must be between 1 and 100000");
    }
    let since = match &args.since {
        Some(s) => parse_since(s, now())?,
        None => 0,
    };
    let store = super::open_existing_store(config).await?;
    let rows = store
        .audit(&AuditQuery {
            user: args.user,
            since,
            limit: args.limit,
        })
        .await;
    let size = store.audit_size().await;
    store.close().await;
    let rows = rows?;
    for r in &rows {
        if args.json {
            println!("{}", serde_json::to_string(r)?);
        } else {
            println!(
                "{}  {:<24} actor={} target={} ip={} {}{}",
                crate::clock::format_time(r.at),
                r.event,
                if r.actor.is_empty() { "-" } else { &r.actor },
                if r.target.is_empty() { "-" } else { &r.target },
                if r.ip.is_empty() { "-" } else { &r.ip },
                r.detail,
                if r.repeats > 1 {
                    format!(" ×{}", r.repeats)
                } else {
                    String::new()
                }
            );
        }
    }
    if rows.is_empty() && !args.json {
        eprintln!("no events");
    }
    if !args.json {
        // What the trail holds, for an admin deciding on its retention.
        if let (total, Some(oldest)) = size? {
            eprintln!(
                "{total} events in the audit trail since {}; kept {}",
                crate::clock::format_time(oldest),
                match config.log.audit_retention_days {
                    0 => "for ever".to_string(),
                    d => format!("{d} days"),
                }
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_durations_and_unix_times() {
        assert_eq!(parse_since("30m", 10_000).unwrap(), 10_000 - 1800);
        assert_eq!(parse_since("2d", 200_000).unwrap(), 200_000 - 172_800);
        assert_eq!(parse_since("1700000000", 5).unwrap(), 1_700_000_000);
        assert!(parse_since("3w", 5).is_err());
        assert!(parse_since("xh", 5).is_err());
        assert!(parse_since("", 5).is_err());
    }
}
