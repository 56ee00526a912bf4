//! One private Asterisk process for a live test: finds the builds `.ci/asterisk.sh` installed,
//! writes a configuration directory of its own (AMI on a free loopback port, Local-channel
//! phones, queues, transfer feature codes, silent prompts), starts `asterisk -f` on it and stops
//! it by PID, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Secret of the one AMI user, shared by the gateway and the test's tap.
pub const SECRET: &str = "ctigw-live-secret";
/// Where `.ci/asterisk.sh` installs the builds.
const ROOT: &str = "/opt/ctigw-test";
/// Written last by `.ci/asterisk.sh`: a prefix without it is an interrupted build.
const MARKER: &str = ".ctigw-build-complete";

const TEMPLATES: &[(&str, &str)] = &[
    ("asterisk.conf", include_str!("etc/asterisk.conf")),
    ("modules.conf", include_str!("etc/modules.conf")),
    ("logger.conf", include_str!("etc/logger.conf")),
    ("manager.conf", include_str!("etc/manager.conf")),
    ("extensions.conf", include_str!("etc/extensions.conf")),
    ("queues.conf", include_str!("etc/queues.conf")),
    ("features.conf", include_str!("etc/features.conf")),
    ("musiconhold.conf", include_str!("etc/musiconhold.conf")),
];

/// Prompts attended transfer plays; silent, so they swallow no digits.
const PROMPTS: &[&str] = &["pbx-transfer", "pbx-invalid", "beep", "beeperr"];

/// An installed build: its version (from the directory name) and prefix.
#[derive(Debug, Clone)]
pub struct Build {
    pub version: String,
    pub prefix: PathBuf,
}

/// The builds to test: `CTIGW_ASTERISK_PREFIXES` (colon-separated prefixes) when set, else
/// every complete `asterisk-<version>` under `/opt/ctigw-test`.
pub fn builds() -> Vec<Build> {
    let prefixes: Vec<PathBuf> = match std::env::var("CTIGW_ASTERISK_PREFIXES") {
        Ok(list) => list
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        Err(_) => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(ROOT)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| {
                            p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with("asterisk-"))
                                && p.join(MARKER).is_file()
                        })
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            found
        }
    };
    prefixes
        .into_iter()
        .filter(|p| p.join("sbin/asterisk").is_file())
        .map(|prefix| {
            let name = prefix
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("unknown");
            Build {
                version: name.strip_prefix("asterisk-").unwrap_or(name).to_string(),
                prefix,
            }
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A private Asterisk instance. Dropping it stops the process and removes its directory.
pub struct Asterisk {
    pub build: Build,
    pub dir: PathBuf,
    /// The AMI port (kept across restarts).
    pub port: u16,
    child: Option<Child>,
}

impl Asterisk {
    /// Writes the configuration directory; does not start the process.
    pub fn prepare(build: &Build, tag: &str) -> Asterisk {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ctigw-ast-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            tag
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in [
            "etc", "varlib", "db", "keys", "agi", "spool", "run", "log", "data",
        ] {
            std::fs::create_dir_all(dir.join(sub)).expect("create the instance directory");
        }
        let port = free_port();
        let fill = |t: &str| {
            t.replace("@DIR@", dir.to_str().expect("a UTF-8 temp dir"))
                .replace("@PREFIX@", build.prefix.to_str().expect("a UTF-8 prefix"))
                .replace("@PORT@", &port.to_string())
                .replace("@SECRET@", SECRET)
        };
        for (name, text) in TEMPLATES {
            std::fs::write(dir.join("etc").join(name), fill(text)).expect("write a config file");
        }
        // the XML documentation stays in the prefix: Asterisk refuses to start without it
        std::os::unix::fs::symlink(
            build.prefix.join("var/lib/asterisk/documentation"),
            dir.join("data/documentation"),
        )
        .expect("link the documentation");
        let sounds = dir.join("data/sounds/en");
        std::fs::create_dir_all(&sounds).expect("create the sounds directory");
        for p in PROMPTS {
            // 0.1 s of µ-law silence
            std::fs::write(sounds.join(format!("{p}.ulaw")), [0xffu8; 800])
                .expect("write a prompt");
        }
        Asterisk {
            build: build.clone(),
            dir,
            port,
            child: None,
        }
    }

    /// Starts `asterisk -f -C <dir>/etc/asterisk.conf`.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "Asterisk already running");
        let console = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log/console.log"))
            .expect("open the console log");
        let child = Command::new(self.build.prefix.join("sbin/asterisk"))
            .arg("-f")
            .arg("-n")
            .arg("-C")
            .arg(self.dir.join("etc/asterisk.conf"))
            .stdin(Stdio::null())
            .stdout(console.try_clone().expect("console log"))
            .stderr(console)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Asterisk {}: {e}", self.build.version));
        self.child = Some(child);
    }

    /// Stops the process by PID: SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the process (SIGKILL): it sends nothing more, as after a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The end of Asterisk's own log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail(&self.dir.join("log/messages"), 40) + &tail(&self.dir.join("log/console.log"), 20)
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    format!("--- {}\n{}\n", path.display(), all[from..].join("\n"))
}

impl Drop for Asterisk {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() || std::env::var_os("CTIGW_KEEP_LIVE_DIRS").is_some() {
            eprintln!(
                "Asterisk {} instance kept in {}\n{}",
                self.build.version,
                self.dir.display(),
                self.log_tail()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
