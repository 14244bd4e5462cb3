//! Commands for packaging and operations: shell completions and man pages generated from
//! the clap definitions (so they never drift from the real arguments), and a health
//! check for container runtimes.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, CommandFactory};

use super::Cli;
use crate::config::Config;

#[derive(Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    shell: clap_complete::Shell,
}

/// Prints the completion script for `shell` on stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // Into a buffer first: clap_complete panics when its writer fails, and a reader that
    // stops early (`| head -1`) makes stdout fail.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "twofold", &mut script);
    write_stdout(&script)
}

/// Writes `bytes` on stdout. A reader that stopped reading (a closed pipe: `| head`) is
/// not an error, as for any Unix tool; other failures are.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

#[derive(Args)]
pub struct ManArgs {
    /// Write twofold.1 and one page per subcommand (twofold-user.1, …) into this folder.
    /// Without it, print twofold.1 on stdout.
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub fn man(args: ManArgs) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .context("writing the man page")?;
            write_stdout(&page)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            println!("man pages written to {}", dir.display());
            Ok(())
        }
    }
}

/// `twofold healthcheck`: asks the running server's `/readyz` (on `server.listen`) and
/// exits 0 only on 200, for a container `HEALTHCHECK` where no curl is installed.
/// Written by hand over a TCP socket: one fixed GET does not justify an HTTP client in
/// the binary.
pub fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = config
        .server
        .listen
        .parse()
        .context("server.listen is not an address")?;
    // A server listening on every address answers on loopback.
    let target = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => ([127, 0, 0, 1], addr.port()).into(),
        ip if ip.is_unspecified() => (std::net::Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    };
    let timeout = Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&target, timeout)
        .with_context(|| format!("nothing answers on {target}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.take(4096).read_to_end(&mut answer)?;
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    if status != "200" {
        bail!("not ready: /readyz answered {status:?}");
    }
    println!("ready");
    Ok(())
}
