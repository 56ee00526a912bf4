//! The `ctigw` binary: `run` the gateway from a configuration, `demo` it against a simulated
//! PBX, `check-config`, and the engineer's tools `decode` and `replay`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use ctigw::config::{self, Config, LogFormat};
use ctigw::{daemon, tools};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
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
        #[arg(long, short, default_value = "/etc/ctigw/ctigw.toml")]
        config: PathBuf,
    },
    /// Run the gateway against a simulated PBX playing live calls; no configuration needed.
    Demo {
        /// Address for the API and the live view.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Which simulated PBX to run: `oxe` (a simulated OXE speaking CSTA over TCP on
        /// loopback), `asterisk` (a simulated Asterisk speaking AMI over TCP on loopback),
        /// `cucm` (a simulated CUCM uaCSTA gateway: CSTA XML in SIP over TCP), `openscape` (a
        /// simulated OpenScape: CSTA XML over TCP) or `sim` (a switch simulated at the adapter
        /// interface).
        #[arg(long, default_value = "oxe", value_parser = ["oxe", "asterisk", "cucm", "openscape", "sim"])]
        pbx: String,
    },
    /// Check a configuration file and report every error in it.
    CheckConfig { config: PathBuf },
    /// Split a capture into frames and print each decoded PDU as a JSON line.
    Decode {
        #[arg(long, value_parser = ["csta-ber", "csta-xml", "sip", "ami"])]
        codec: String,
        /// Raw bytes or hex text (`#` comments ignored); `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Feed a capture of what a PBX sent through codec, adapter and engine; print the
    /// normalised events as JSON lines, then a summary of the calls.
    Replay {
        #[arg(long, value_parser = ["oxe", "asterisk", "uacsta", "csta-xml-tcp"])]
        dialect: String,
        /// A configuration whose [dialplan] to use (default: the built-in French plan).
        #[arg(long)]
        config: Option<PathBuf>,
        file: PathBuf,
    },
}

/// Prints a line for the person who started the daemon. A closed stdout (the reader went
/// away, `| head`) must not stop the daemon, so write errors are ignored.
fn say(msg: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{msg}");
    let _ = out.flush();
}

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
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init();
    }
    handle
}

fn demo_config(listen: std::net::SocketAddr, oxe: Option<std::net::SocketAddr>) -> Config {
    let link = match oxe {
        Some(addr) => format!(
            "dialect = \"oxe\"\naddress = \"{addr}\"\ndevices = [\"24101-24104\", \"24110\"]\nreconnect_min_ms = 200"
        ),
        None => "dialect = \"sim\"\ndevices = [\"24101-24104\"]".to_string(),
    };
    let text = format!(
        r#"
[api]
listen = "{listen}"
auth = "none"
[[link]]
name = "demo"
{link}
"#
    );
    // the embedded text is fixed; a failure here is a bug worth a loud message
    config::parse(&text, Path::new("(demo)"))
        .unwrap_or_else(|e| panic!("built-in demo configuration is invalid: {e}"))
}

/// `demo --pbx asterisk`: the simulated Asterisk on loopback plays its scenarios in a loop and
/// an Asterisk link logs in to it over AMI.
async fn demo_asterisk(listen: std::net::SocketAddr, log: ReloadHandle) -> anyhow::Result<()> {
    use ctigw::sim::asterisk::{SimAsterisk, SimConfig};
    let sim = SimAsterisk::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        SimConfig::default(),
    )
    .await
    .context("cannot start the simulated Asterisk")?;
    say(format_args!(
        "simulated Asterisk (AMI over TCP) on {}",
        sim.addr()
    ));
    let text = format!(
        r#"
[api]
listen = "{listen}"
auth = "none"
[[link]]
name = "demo"
dialect = "asterisk"
address = "{}"
devices = ["101", "102", "103"]
username = "ctigw"
secret = "secret"
phone_models = {{ "103" = "yealink" }}
queues = ["sales"]
reconnect_min_ms = 200
"#,
        sim.addr()
    );
    let cfg = config::parse(&text, Path::new("(demo)"))
        .unwrap_or_else(|e| panic!("built-in demo configuration is invalid: {e}"));
    let player = sim.clone();
    let scenarios = tokio::spawn(async move { player.demo_loop().await });
    let r = serve(cfg, None, log, true).await;
    scenarios.abort();
    r
}

async fn serve(
    cfg: Config,
    config_path: Option<PathBuf>,
    log: ReloadHandle,
    demo: bool,
) -> anyhow::Result<()> {
    let mut cfg = cfg;
    let running = match daemon::start(&cfg).await {
        Ok(r) => r,
        Err(e) if demo => {
            // the default port may be taken: take any free one rather than fail a newcomer
            tracing::warn!("{e:#}; trying a free port");
            cfg.api.listen.set_port(0);
            daemon::start(&cfg).await?
        }
        Err(e) => return Err(e),
    };
    daemon::notify_systemd(&running.engine);
    if demo {
        say(format_args!(
            "ctigw demo: live view at http://{}/  (WebSocket: ws://{}/v1/ws, metrics: /metrics)",
            running.addr, running.addr
        ));
        say(format_args!(
            "ctigw demo: Dynamics stand-in with the CIF channel page at http://{}/demo/crm.html",
            running.addr
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
                            tracing::info!("configuration reloaded (tokens, log level)");
                        } else {
                            tracing::warn!("configuration reloaded (tokens, log level); changes to {} need a restart", restart.join(", "));
                        }
                        // what was applied is now the running configuration
                        cfg.api.auth = next.api.auth;
                        cfg.log_level = next.log_level;
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
            runtime().and_then(|rt| rt.block_on(serve(cfg, Some(path), log, false)))
        }
        Cmd::Demo { listen, pbx } => {
            let log = init_logging("info", cli.log_json);
            ctigw::web::configure(ctigw::web::PageConfig::demo());
            runtime().and_then(|rt| {
                rt.block_on(async move {
                    if pbx == "sim" {
                        return serve(demo_config(listen, None), None, log, true).await;
                    }
                    if pbx == "asterisk" {
                        return demo_asterisk(listen, log).await;
                    }
                    if pbx == "cucm" || pbx == "openscape" {
                        let (sim, link) = ctigw::sim::csta_xml::demo(pbx == "cucm")
                            .await
                            .context("cannot start the simulated CSTA XML PBX")?;
                        say(format_args!("simulated {pbx} (CSTA XML) on {}", sim.addr));
                        let text = format!(
                            "[api]\nlisten = \"{listen}\"\nauth = \"none\"\n[[link]]\nname = \"demo\"\n{link}\n"
                        );
                        let cfg = config::parse(&text, Path::new("(demo)"))
                            .unwrap_or_else(|e| panic!("built-in demo configuration is invalid: {e}"));
                        return serve(cfg, None, log, true).await;
                    }
                    // the simulated OXE plays its scenario loop; the gateway links to it
                    // over real TCP on loopback (kept alive for as long as the demo runs)
                    let sim = ctigw::sim::oxe::spawn(
                        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                        ctigw::sim::oxe::SimConfig {
                            demo_loop: true,
                            ..Default::default()
                        },
                    )
                    .await
                    .context("cannot start the simulated OXE")?;
                    say(format_args!(
                        "simulated OXE (CSTA Phase II over TCP) on {}",
                        sim.addr
                    ));
                    // the gateway reaches it through a tap that records its requests (/demo/wire)
                    let (tap, wire) = ctigw::web::demo::wire_tap(sim.addr).await?;
                    ctigw::web::demo::install(sim.clone(), wire);
                    let r = serve(demo_config(listen, Some(tap)), None, log, true).await;
                    drop(sim);
                    r
                })
            })
        }
        Cmd::Decode { codec, file } => tools::read_input(&file).and_then(|input| {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let (ok, bad) = tools::decode::decode(&codec, &input, &mut out)?;
            eprintln!("{ok} frame(s) decoded, {bad} in error");
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
            tools::replay::replay(&dialect, &input, engine, &mut out)?;
            Ok(())
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctigw: {e:#}");
            ExitCode::from(2)
        }
    }
}
