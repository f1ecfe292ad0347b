//! The example server as a child process of the test binary.

use super::{lock, CHILD_ENV};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The example server running as a child process; killed if still running when dropped.
pub struct Server {
    name: String,
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    exited: Option<ExitStatus>,
}

/// A child just started: its output is being collected, its address will come.
struct Spawned {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    addr: mpsc::Receiver<String>,
}

/// Starts the child with a clean environment: only the variables given (plus what a process
/// needs, like `PATH`), never a `DATABASE_URL` or token of the developer's shell.
fn spawn(env: &[(&str, String)]) -> Spawned {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([
        "--exact",
        "server_child",
        "--nocapture",
        "--include-ignored",
        "--test-threads=1",
    ]);
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let ours = [
            "KOVA_",
            "GITHUB_",
            "ANTHROPIC_",
            "RUST_LOG",
            "DATABASE_URL",
            "HOSTNAME",
        ];
        if ours.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(k);
        }
    }
    cmd.env(CHILD_ENV, "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the server child");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let out = read_lines(child.stdout.take().expect("stdout"), logs.clone(), Some(tx));
    let err = read_lines(child.stderr.take().expect("stderr"), logs.clone(), None);
    Spawned {
        child,
        logs,
        readers: vec![out, err],
        addr: rx,
    }
}

/// What the server prints once it listens, before its address.
const LISTENING: &str = "kova listening on http://";

/// Collects a pipe's lines; the listening address goes to `addr`.
fn read_lines(
    pipe: impl Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
    addr: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                    // Not necessarily at the start of a line: the test harness's
                    // `test server_child ... ` has no newline, and what follows joins it.
                    if let (Some(tx), Some(at)) = (&addr, line.find(LISTENING)) {
                        let rest = &line[at + LISTENING.len()..];
                        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                        let _ = tx.send(rest[..end].to_string());
                    }
                    lock(&logs).push(line);
                }
            }
        }
    })
}

impl Server {
    /// Starts a server with these variables and waits until it listens.
    pub fn start(name: &str, env: &[(&str, String)]) -> Server {
        let mut env = env.to_vec();
        if !env.iter().any(|(k, _)| *k == "KOVA_BIND") {
            env.push(("KOVA_BIND", "127.0.0.1:0".into()));
        }
        let Spawned {
            mut child,
            logs,
            readers,
            addr,
        } = spawn(&env);
        match addr.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Server {
                name: name.to_string(),
                child,
                base: format!("http://{addr}"),
                logs,
                readers,
                exited: None,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                for r in readers {
                    let _ = r.join();
                }
                panic!(
                    "server {name} did not start listening; its output:\n{}",
                    lock(&logs).join("\n")
                );
            }
        }
    }

    /// Runs a server that must refuse to start; returns its output.
    pub fn start_failing(env: &[(&str, String)]) -> Vec<String> {
        let mut env = env.to_vec();
        env.push(("KOVA_BIND", "127.0.0.1:0".into()));
        let Spawned {
            mut child,
            logs,
            readers,
            ..
        } = spawn(&env);
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for the child") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("a misconfigured server did not exit: {:?}", lock(&logs));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in readers {
            let _ = r.join();
        }
        let logs = lock(&logs).clone();
        assert!(
            !status.success(),
            "the server should have refused: {logs:?}"
        );
        assert!(
            !logs.iter().any(|l| l.contains(LISTENING)),
            "the server should not listen: {logs:?}"
        );
        logs
    }

    /// Everything the server printed so far (stdout and stderr, by line).
    pub fn logs(&self) -> Vec<String> {
        lock(&self.logs).clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        assert!(!status.success(), "{} was killed", self.name);
        self.exited = Some(status);
        self.join_readers();
    }

    /// SIGTERM, then waits for the graceful shutdown to finish.
    pub fn stop(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM {}", self.pid());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait for the server") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within 60 s of SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.exited = Some(status);
        self.join_readers();
        assert!(
            status.success(),
            "{} exited with {status} after SIGTERM: {:?}",
            self.name,
            self.logs()
        );
        assert!(
            self.logs().iter().any(|l| l.ends_with("kova stopped")),
            "{} stops gracefully",
            self.name
        );
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
