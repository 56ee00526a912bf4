//! The `ctigw` binary: `run` the gateway from a configuration, `demo` it against a simulated
//! PBX, `check-config`, the engineer's tools `decode` and `replay`, and its own `man` pages
//! and shell `completions`, generated from these definitions so they never drift from `--help`.

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand};
use ctigw::api::tls::CertStore;
use ctigw::config::{self, Config, LogFormat};
use ctigw::pbx::registry::{self, Dialect};
use ctigw::{daemon, tools};
use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, reload};

#[derive(Parser)]
#[command(
    name = "ctigw",
    version,
    about = "CTI gateway: PBX computer-telephony links to one call model for CRM clients"
)]
struct Cli {
    /// Log as JSON lines (default: human-readable on a terminal).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the gateway.
    Run {
        /// The configuration file (see examples/ctigw.toml; check it with `check-config`).
        #[arg(long, short, default_value = "/etc/ctigw/ctigw.toml")]
        config: PathBuf,
    },
    /// Run the gateway against a simulated PBX playing live calls; no configuration needed.
    Demo {
        /// Address for the API and the live view: IP:PORT or HOST:PORT. Off loopback the demo
        /// asks for a token, which it generates and prints.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = listen_addr)]
        listen: SocketAddr,
        /// Which simulated PBX to run, by dialect or product name: its simulator speaks the
        /// dialect's protocol on loopback (the first dialect registered is the default).
        #[arg(long, default_value = registry::DIALECTS[0].name, value_parser = dialect_parser(registry::DIALECTS.iter().copied()))]
        pbx: String,
        /// Serve plain HTTP instead of HTTPS with a generated self-signed certificate
        /// (loopback addresses only).
        #[arg(long)]
        plain_http: bool,
    },
    /// Check a configuration file and report every error in it.
    CheckConfig {
        /// The configuration file to check.
        config: PathBuf,
    },
    /// Split a capture into frames and print each decoded PDU as a JSON line.
    #[command(after_help = EXIT_HELP)]
    Decode {
        #[arg(long, value_parser = codec_parser())]
        codec: String,
        /// Raw bytes, hex text (`#` comments ignored), a text capture whose first lines are
        /// `#` comments, or a fixture transcript (`<` lines); `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Feed a capture of what a PBX sent through codec, adapter and engine; print the
    /// normalised events as JSON lines, then a summary of the calls.
    #[command(after_help = EXIT_HELP)]
    Replay {
        /// The dialect (or product name) that sent it.
        #[arg(long, value_parser = dialect_parser(registry::replayable()))]
        dialect: String,
        /// A configuration whose [dialplan] to use (default: the built-in French plan).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The capture: raw bytes, hex text, or a fixture transcript; `-` for standard input.
        file: PathBuf,
    },
    /// Print the shell completion script for SHELL on standard output.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (ctigw.1 and one per subcommand) into DIR.
    Man {
        /// Where to write them.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// Exit statuses of `decode` and `replay`, as their `--help` ends.
const EXIT_HELP: &str = "Exit status: 0 when every frame decoded; 3 when a frame failed to \
decode or nothing decoded at all; 2 on a usage or I/O error.";

/// `--listen`: an IP:PORT, or a HOST:PORT resolved now (its first address).
fn listen_addr(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| {
            format!("\"{s}\" is not an address such as 127.0.0.1:8080 or localhost:8080: {e}")
        })?
        .next()
        .ok_or_else(|| format!("\"{s}\" resolves to no address"))
}

/// A token for a demo reachable off loopback: 24 random bytes, as hex.
fn demo_token() -> anyhow::Result<String> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for a demo token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Writes `ctigw.1` and `ctigw-SUBCOMMAND.1` for every subcommand into `dir`.
fn write_man_pages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
}

/// The names of `dialects`, each canonical name with its description and each alias saying
/// what it stands for, as `--help` lists them.
fn dialect_parser(dialects: impl Iterator<Item = &'static Dialect>) -> PossibleValuesParser {
    PossibleValuesParser::new(dialects.flat_map(|d| {
        std::iter::once(PossibleValue::new(d.name).help(d.description)).chain(
            d.aliases
                .iter()
                .map(move |a| PossibleValue::new(*a).help(format!("same as {}", d.name))),
        )
    }))
}

/// The codecs the dialects register, as `--help` lists them.
fn codec_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        registry::codecs()
            .into_iter()
            .map(|c| PossibleValue::new(c.name).help(c.description)),
    )
}

/// Prints a line for the person who started the daemon. A closed stdout (the reader went
/// away, `| head`) must not stop the daemon, so write errors are ignored.
fn say(msg: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{msg}");
    let _ = out.flush();
}

/// `replay` found frames it could not decode or nothing to report: exit status 3.
#[derive(Debug, thiserror::Error)]
#[error("a frame failed to decode or nothing decoded")]
struct DecodeFailed;

type ReloadHandle = reload::Handle<EnvFilter, tracing_subscriber::Registry>;

fn init_logging(level: &str, json: bool) -> ReloadHandle {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .init();
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    // colours only for a person: journald and files get plain text
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .init();
    }
    handle
}

async fn serve(
    cfg: Config,
    config_path: Option<PathBuf>,
    log: ReloadHandle,
    demo: bool,
    demo_token: Option<String>,
    demo_tls: Option<Arc<CertStore>>,
) -> anyhow::Result<()> {
    let mut cfg = cfg;
    let running = match daemon::start_with_tls(&cfg, demo_tls.clone()).await {
        Ok(r) => r,
        Err(e) if demo => {
            // the default port may be taken: take any free one rather than fail a newcomer
            tracing::warn!("{e:#}; trying a free port");
            cfg.api.listen.set_port(0);
            daemon::start_with_tls(&cfg, demo_tls).await?
        }
        Err(e) => return Err(e),
    };
    daemon::notify_systemd(&running.engine);
    if demo {
        let (http, ws) = match &running.tls {
            Some(store) => {
                say(format_args!(
                    "ctigw demo: self-signed certificate for localhost, 127.0.0.1; SHA-256 fingerprint {}",
                    store.fingerprint()
                ));
                ("https", "wss")
            }
            None => ("http", "ws"),
        };
        let addr = running.addr;
        say(format_args!(
            "ctigw demo: live view at {http}://{addr}/  (WebSocket: {ws}://{addr}/v1/ws, metrics: /metrics)"
        ));
        if let Some(t) = &demo_token {
            say(format_args!(
                "ctigw demo: listening off loopback, so clients need this token: {t}\n  open {http}://{addr}/?access_token={t} or {http}://{addr}/engineer?access_token={t}"
            ));
        }
        say(format_args!(
            "ctigw demo: Dynamics stand-in with the CIF channel page at {http}://{addr}/demo/crm.html"
        ));
        say(format_args!("press Ctrl-C to stop"));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => {
                let Some(path) = &config_path else {
                    tracing::info!("SIGHUP: nothing to reload in demo mode");
                    continue;
                };
                match config::load(path) {
                    Err(e) => tracing::error!("reload refused, keeping the running configuration:\n{e}"),
                    Ok(next) => {
                        running.auth.replace(daemon::authenticator(&next));
                        let tls_restart = running.reload_tls(&next);
                        if let Err(e) = log.modify(|f| *f = EnvFilter::new(&next.log_level)) {
                            tracing::warn!("cannot change the log level: {e}");
                        }
                        let api_changed = |a: &config::ApiSection, b: &config::ApiSection| {
                            a.allowed_origins != b.allowed_origins
                                || a.client_queue != b.client_queue
                                || a.replay_buffer != b.replay_buffer
                                || a.write_timeout != b.write_timeout
                        };
                        let restart: Vec<&str> = [
                            ("api.listen", next.api.listen != cfg.api.listen),
                            (tls_restart.unwrap_or("tls"), tls_restart.is_some()),
                            ("api (origins, queues, timeouts)", api_changed(&next.api, &cfg.api)),
                            ("link", next.links != cfg.links),
                            ("dialplan", next.dialplan != cfg.dialplan),
                            (
                                "engine",
                                next.command_timeout != cfg.command_timeout
                                    || next.blocked_agent_release != cfg.blocked_agent_release,
                            ),
                        ]
                        .iter()
                        .filter(|(_, changed)| *changed)
                        .map(|(k, _)| *k)
                        .collect();
                        if restart.is_empty() {
                            tracing::info!("configuration reloaded (tokens, certificate, log level)");
                        } else {
                            tracing::warn!("configuration reloaded (tokens, certificate, log level); changes to {} need a restart", restart.join(", "));
                        }
                        // what was applied is now the running configuration
                        cfg.api.auth = next.api.auth;
                        cfg.log_level = next.log_level;
                        if tls_restart.is_none() {
                            cfg.tls = next.tls;
                        }
                    }
                }
            }
        }
    }
    tracing::info!("stopping");
    daemon::notify_stopping();
    running.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime")
    };
    let result: anyhow::Result<()> = match cli.cmd {
        Cmd::CheckConfig { config: path } => match config::load(&path) {
            Ok(c) => {
                println!(
                    "{}: ok ({} link(s), {} device(s))",
                    path.display(),
                    c.links.len(),
                    c.links.iter().map(|l| l.devices.len()).sum::<usize>()
                );
                Ok(())
            }
            Err(e) => {
                eprint!("{e}");
                return ExitCode::from(1);
            }
        },
        Cmd::Run { config: path } => {
            let cfg = match config::load(&path) {
                Ok(c) => c,
                Err(e) => {
                    eprint!("{e}");
                    return ExitCode::from(1);
                }
            };
            let log = init_logging(
                &cfg.log_level,
                cli.log_json || cfg.log_format == LogFormat::Json,
            );
            runtime().and_then(|rt| rt.block_on(serve(cfg, Some(path), log, false, None, None)))
        }
        Cmd::Demo {
            listen,
            pbx,
            plain_http,
        } => {
            let log = init_logging("info", cli.log_json);
            ctigw::web::configure(ctigw::web::PageConfig::demo());
            runtime().and_then(|rt| {
                rt.block_on(async move {
                    // the simulator runs for as long as the demo does; its built-in
                    // configuration listens on loopback without sign-on, and off loopback
                    // the demo asks for a token of its own making
                    let loopback = SocketAddr::from(([127, 0, 0, 1], listen.port()));
                    let (mut cfg, sim) = ctigw::sim::demo(&pbx, loopback).await?;
                    cfg.api.listen = listen;
                    let token = if listen.ip().is_loopback() {
                        None
                    } else {
                        let t = demo_token()?;
                        cfg.api.auth = config::AuthConfig::Tokens(vec![config::TokenEntry {
                            token: t.clone(),
                            user: "demo".into(),
                            devices: None,
                        }]);
                        Some(t)
                    };
                    if let Some(banner) = &sim.banner {
                        say(format_args!("{banner}"));
                    }
                    if let Some(world) = sim.world.clone() {
                        ctigw::web::demo::install(world);
                    }
                    let tls = if plain_http {
                        None
                    } else {
                        let (cert, key) = ctigw::api::tls::self_signed_localhost()?;
                        Some(Arc::new(CertStore::from_pem(&cert, &key)?))
                    };
                    let r = serve(cfg, None, log, true, token, tls).await;
                    drop(sim);
                    r
                })
            })
        }
        Cmd::Decode { codec, file } => tools::read_input(&file).and_then(|input| {
            let input = tools::pbx_bytes(&input)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let (ok, bad) = tools::decode::decode(&codec, &input, &mut out)?;
            eprintln!("{ok} frame(s) decoded, {bad} in error");
            if ok == 0 || bad > 0 {
                return Err(anyhow::anyhow!(DecodeFailed));
            }
            Ok(())
        }),
        Cmd::Replay {
            dialect,
            config: cfg_path,
            file,
        } => (|| {
            let engine = match cfg_path {
                Some(p) => {
                    let c = config::load(&p).map_err(|e| anyhow::anyhow!("{e}"))?;
                    ctigw::engine::EngineConfig {
                        dialplan: c.dialplan,
                        blocked_release_after: c.blocked_agent_release,
                        ..Default::default()
                    }
                }
                None => ctigw::engine::EngineConfig::default(),
            };
            let input = tools::read_input(&file)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let res = tools::replay::replay(&dialect, &input, engine, &mut out)?;
            Ok(res.events.is_empty() || !res.errors.is_empty())
        })()
        .and_then(|failed| {
            if failed {
                eprintln!("ctigw: replay: a frame failed to decode or no event came out");
                return Err(anyhow::anyhow!(DecodeFailed));
            }
            Ok(())
        }),
        Cmd::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "ctigw", &mut std::io::stdout());
            Ok(())
        }
        Cmd::Man { dir } => write_man_pages(&dir).map(|()| {
            say(format_args!(
                "ctigw: man pages written into {}",
                dir.display()
            ));
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<DecodeFailed>() => ExitCode::from(tools::EXIT_DECODE_ERRORS),
        Err(e) => {
            eprintln!("ctigw: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_and_replay_accept_every_registered_name() {
        for d in registry::DIALECTS {
            for name in d.names() {
                let cli = Cli::try_parse_from(["ctigw", "demo", "--pbx", name])
                    .unwrap_or_else(|e| panic!("demo --pbx {name}: {e}"));
                assert!(matches!(cli.cmd, Cmd::Demo { pbx, .. } if pbx == name));
                let replay = Cli::try_parse_from(["ctigw", "replay", "--dialect", name, "f"]);
                assert_eq!(
                    replay.is_ok(),
                    d.replayer.is_some(),
                    "replay --dialect {name}"
                );
            }
        }
        assert!(Cli::try_parse_from(["ctigw", "demo", "--pbx", "nortel"]).is_err());
        for c in registry::codecs() {
            assert!(Cli::try_parse_from(["ctigw", "decode", "--codec", c.name]).is_ok());
        }
    }
}
