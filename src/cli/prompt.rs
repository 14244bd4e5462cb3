//! Reading a password (never from an argument) and asking for confirmation.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

/// From stdin when `from_stdin`, else prompted twice on the terminal.
pub fn password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            bail!("no password on stdin");
        }
        return Ok(pw);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on: pipe it in with --password-stdin");
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Repeat password: ").context("reading the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}

/// Asks a yes/no question on stdin; anything but "y" or "yes" is a no.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
