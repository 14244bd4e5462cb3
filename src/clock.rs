//! The clock, read at the edge and passed into domain code as a parameter, and the one
//! way times are shown to people.

/// Seconds since the Unix epoch. Read here, at the edge, and passed into domain code.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(unix: i64) -> String {
    cookie::time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}
