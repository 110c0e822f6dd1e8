//! Launching the real desktop app under `tauri-driver` for end-to-end tests.
//!
//! Each test gets its own state directory (`PGRELOCATE_HOME`), its own driver ports and
//! its own process group, so tests can run in parallel and a failing test leaves no
//! window behind. Run under `xvfb-run -a dbus-run-session` on a machine without a display.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use pgrelocate_engine::assess::{self, AssessRequest, Mode};
use pgrelocate_engine::instances::{CreateRequest, Instances};
use pgrelocate_engine::port_range::{PortRange, PORTS_ENV};
use pgrelocate_engine::task::{ReplicationState, TaskId, TaskRequest, Tasks};
use tempfile::TempDir;

mod shots;

/// Where `scripts/test-desktop.sh` installs tauri-driver (`cargo install --root`).
const TOOLS_DIR: &str = ".cache/pgrelocate/tools/bin";

/// What a failed wait reports: the open dialogs first (they are at the end of the page),
/// then the start of the page.
const PAGE_TEXT: &str = "Array.from(document.querySelectorAll('.ant-modal')).map(m => '[dialog] ' + m.innerText).join('\\n') + '\\n[page] ' + document.body.innerText.slice(0, 3000)";

/// How long the driver and the window get to come up, and elements to appear.
const STARTUP: Duration = Duration::from_secs(30);

/// How many times a WebDriver session is tried, each with a new tauri-driver.
const SESSION_ATTEMPTS: u32 = 3;

/// How to launch the app: its state directory, the ports of its managed instances and
/// extra environment.
pub struct Launch {
    home: TempDir,
    ports: PortRange,
    env: Vec<(String, PathBuf)>,
}

/// Full copy of two small clusters, then the standby connecting, on a loaded machine.
const STREAMING: Duration = Duration::from_secs(240);

impl Launch {
    /// A fresh, empty state directory and no extra environment.
    pub fn new() -> Launch {
        let home = tempfile::Builder::new()
            .prefix("pgrelocate-e2e-")
            .tempdir()
            .expect("temp state dir");
        // Parallel tests' sandboxes would all start at port 5433 and could take the port of
        // a destination another test restarts.
        let block = pgrelocate_testkit::PortBlock::reserve();
        Launch {
            home,
            ports: block.env_value().parse().expect("a valid port block"),
            env: Vec::new(),
        }
    }

    /// The state directory the app will use (prepare instances in it before launching).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The ports of the app's managed instances: no parallel test uses them (give the
    /// first to an instance created on a host, whose agent does not see this range).
    pub fn ports(&self) -> PortRange {
        self.ports
    }

    /// The engine over the app's state directory, as the app will open it.
    pub fn instances(&self) -> Instances {
        Instances::open(self.home.path())
            .expect("open the state directory")
            .with_ports(self.ports)
    }

    /// Creates managed PostgreSQL 15 instances `source` and `dest` in the app's state
    /// directory, assesses them for `mode` and starts a task, returned once it streams with
    /// the engine's task service that still drives it.
    pub async fn streaming_task(&self, source: &str, dest: &str, mode: Mode) -> (Tasks, TaskId) {
        let instances = Arc::new(self.instances());
        let bin = tokio::task::spawn_blocking(|| {
            pgrelocate_testkit::Installation::embedded(15)
                .unwrap()
                .bin_dir()
                .to_path_buf()
        })
        .await
        .unwrap();
        for name in [source, dest] {
            instances
                .create(CreateRequest {
                    name: name.into(),
                    major: 15,
                    bin_dir: Some(bin.clone()),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        assess::assess(
            &instances,
            AssessRequest {
                source: source.into(),
                dest: dest.into(),
                mode,
                options: assess::Options {
                    connect_timeout: Duration::from_secs(10),
                    wal_sample: Duration::from_millis(500),
                    ..assess::Options::default()
                },
            },
            &|_| {},
        )
        .await
        .unwrap();
        let tasks = Tasks::new(instances.clone());
        let task = tasks
            .create(TaskRequest {
                source: source.into(),
                dest: dest.into(),
                mode,
                report_id: None,
                options: Default::default(),
            })
            .await
            .unwrap();
        let streaming = tasks
            .wait_until(&task.id, "streaming", STREAMING, |t| {
                t.replication == ReplicationState::Streaming
            })
            .await
            .unwrap();
        assert_eq!(
            streaming.replication,
            ReplicationState::Streaming,
            "{:?}",
            streaming.error
        );
        (tasks, task.id)
    }

    /// Sets an environment variable of the app.
    pub fn env(mut self, key: &str, value: impl Into<PathBuf>) -> Launch {
        self.env.push((key.to_string(), value.into()));
        self
    }
}

/// The desktop app running under WebDriver, with a private state directory. Dropping it
/// closes the window and removes every instance created in that state directory (servers
/// stopped, data deleted), also when the test failed.
pub struct DesktopApp {
    client: Option<Client>,
    driver: Driver,
    home: TempDir,
}

impl DesktopApp {
    /// Starts tauri-driver and opens a session on the app binary built with the embedded UI.
    pub async fn launch() -> DesktopApp {
        Self::launch_with(Launch::new()).await
    }

    /// As [`DesktopApp::launch`], with a prepared state directory and extra environment.
    pub async fn launch_with(launch: Launch) -> DesktopApp {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "no display: run the end-to-end tests under `xvfb-run -a dbus-run-session -- …`"
        );
        let Launch { home, ports, env } = launch;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary() }),
        );
        // WebKitWebDriver was seen to drop the connection while creating the session (the
        // app's web process failing to come up under Xvfb): start over with a new driver a
        // few times rather than fail the test on a start-up accident.
        let mut attempt = 1;
        loop {
            let driver = Driver::start(home.path(), ports, &env);
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", driver.port))
                .await
            {
                Ok(client) => {
                    return DesktopApp {
                        client: Some(client),
                        driver,
                        home,
                    }
                }
                Err(e) if attempt < SESSION_ATTEMPTS => {
                    eprintln!(
                        "WebDriver session, attempt {attempt}: {e}; starting tauri-driver again"
                    );
                    drop(driver);
                    attempt += 1;
                }
                Err(e) => panic!("WebDriver session on the desktop app, attempt {attempt}: {e}"),
            }
        }
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("session is open")
    }

    /// The app's state directory (`PGRELOCATE_HOME`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The text of the first element matching `css`, once it exists.
    pub async fn text(&self, css: &str) -> String {
        self.client()
            .wait()
            .at_most(STARTUP)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .expect("element text")
    }

    /// The whole text content of the first element matching `css` (also what WebDriver's
    /// rendered text leaves out, e.g. clipped titles), once it exists.
    pub async fn content(&self, css: &str) -> String {
        self.wait_for(css, STARTUP).await;
        self.eval(&format!("document.querySelector({css:?}).textContent"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element matching `css` shows exactly `expected`; returns what it showed last.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + STARTUP;
        loop {
            let shown = self.text(css).await;
            if shown == expected || Instant::now() > deadline {
                return shown;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub async fn eval(&self, expression: &str) -> serde_json::Value {
        self.client()
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|e| panic!("evaluating {expression}: {e}"))
    }

    /// The first element matching `css`, once it exists (within `timeout`; else panics with
    /// what the page showed).
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        match self
            .client()
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                let shown = self.eval(PAGE_TEXT).await;
                self.screenshot_failure().await;
                panic!(
                    "no element {css} within {timeout:?} ({e}); the page shows:\n{}",
                    shown.as_str().unwrap_or("")
                )
            }
        }
    }

    /// Clicks the first element matching `css` once it exists, has stopped moving (dialogs
    /// open with an animation) and is the topmost element at its centre (not under a mask).
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + STARTUP;
        let ready = format!(
            "(async () => {{
                const e = document.querySelector({css:?});
                if (!e) return false;
                // antd dialogs and menus ignore clicks while they animate in or out.
                if (e.closest(\"[class*='-appear'], [class*='-enter'], [class*='-leave']\")) return false;
                e.scrollIntoView({{block: 'center'}});
                const a = e.getBoundingClientRect();
                await new Promise(r => setTimeout(r, 120));
                const b = e.getBoundingClientRect();
                if (a.x !== b.x || a.y !== b.y || a.width !== b.width || b.width === 0) return false;
                const top = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
                return !!top && (top === e || e.contains(top));
            }})()"
        );
        loop {
            self.wait_for(css, STARTUP).await;
            let stable = self
                .client()
                .execute_async(
                    &format!(
                        "const done = arguments[arguments.length - 1]; {ready}.then(done, () => done(false));"
                    ),
                    vec![],
                )
                .await
                .unwrap_or(serde_json::Value::Bool(false));
            if stable == serde_json::Value::Bool(true) {
                let element = self.wait_for(css, STARTUP).await;
                match element.click().await {
                    Ok(_) => return,
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("retrying click on {css}: {e}")
                    }
                    Err(e) => panic!("cannot click {css}: {e}"),
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never became clickable (moving, hidden or covered)"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `css` whose text is exactly `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        let found = self
            .wait_until(
                &format!("{css} with text {text:?}"),
                &format!(
                    "Array.from(document.querySelectorAll({css:?})).some(e => e.textContent.trim() === {text:?})"
                ),
                STARTUP,
            )
            .await;
        assert_eq!(found, serde_json::Value::Bool(true));
        let elements = self
            .client()
            .find_all(Locator::Css(css))
            .await
            .expect("find elements");
        for element in elements {
            if element
                .text()
                .await
                .map(|t| t.trim() == text)
                .unwrap_or(false)
            {
                element
                    .click()
                    .await
                    .unwrap_or_else(|e| panic!("cannot click {text:?}: {e}"));
                return;
            }
        }
        panic!("no {css} with text {text:?}");
    }

    /// As [`DesktopApp::click_text`], once the element has stopped moving and is not under
    /// a mask (e.g. a button of the page while a dialog closes).
    pub async fn click_text_when_ready(&self, css: &str, text: &str) {
        self.wait_until(
            &format!("{css} with text {text:?}"),
            &format!(
                "(() => {{
                    document.querySelectorAll('[data-e2e-click]').forEach(e => e.removeAttribute('data-e2e-click'));
                    const e = Array.from(document.querySelectorAll({css:?})).find(e => e.textContent.trim() === {text:?});
                    if (!e) return false;
                    e.setAttribute('data-e2e-click', '');
                    return true;
                }})()"
            ),
            STARTUP,
        )
        .await;
        self.click("[data-e2e-click]").await;
    }

    /// Types `text` into the input matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css, STARTUP)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Replaces what the input matching `css` holds (e.g. a default value) with `text`, as
    /// a user would: select all, delete, type. Panics if the input does not show `text`.
    pub async fn replace_text(&self, css: &str, text: &str) {
        const CONTROL: &str = "\u{E009}";
        const RELEASE_ALL: &str = "\u{E000}";
        const BACKSPACE: &str = "\u{E003}";
        let input = self.wait_for(css, STARTUP).await;
        input
            .send_keys(&format!("{CONTROL}a{RELEASE_ALL}{BACKSPACE}"))
            .await
            .unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
        let shown = self
            .eval(&format!("document.querySelector({css:?}).value"))
            .await;
        assert_eq!(
            shown.as_str(),
            Some(text),
            "{css} does not hold what was typed"
        );
    }

    /// Presses Next in the assessment wizard and waits until it shows step `step` (0-based).
    /// A step whose content is still arriving (the live source checklist) moves the dialog's
    /// footer under the pointer, and a click can land where Next was: while the wizard still
    /// shows the step before, Next is pressed again (never once it moved on, so no step is
    /// skipped).
    pub async fn next_wizard_step(&self, step: u32) {
        const SHOWN: &str = "document.querySelector('[data-testid=wizard-step]')?.dataset.step";
        let before = step.checked_sub(1).expect("the wizard opens on step 0");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let shown = self.eval(SHOWN).await;
            if shown == serde_json::json!(step.to_string()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after 60s waiting for wizard step {step} (it shows {shown}); the page shows:\n{}",
                self.eval("document.body.innerText").await
            );
            if shown == serde_json::json!(before.to_string()) {
                self.click("[data-testid=wizard-next]").await;
            }
            let moved = format!("{SHOWN} !== '{before}'");
            let settle = Instant::now() + Duration::from_secs(5);
            while Instant::now() < settle && self.eval(&moved).await != serde_json::json!(true) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Opens the antd Select matching `css` and picks the option whose text is `option`;
    /// waits until the Select shows it.
    pub async fn choose(&self, css: &str, option: &str) {
        self.click(css).await;
        // The option is marked, then clicked like anything else (once its list stopped moving).
        self.wait_until(
            &format!("the option {option:?} of {css}"),
            &format!(
                "(() => {{
                    document.querySelectorAll('[data-e2e-pick]').forEach(e => e.removeAttribute('data-e2e-pick'));
                    const o = Array.from(document.querySelectorAll('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option'))
                        .find(e => e.textContent.trim() === {option:?});
                    if (!o) return false;
                    o.setAttribute('data-e2e-pick', '');
                    return true;
                }})()"
            ),
            STARTUP,
        )
        .await;
        self.click("[data-e2e-pick]").await;
        self.wait_until(
            &format!("{css} to show {option:?}"),
            &format!("document.querySelector({css:?})?.textContent.includes({option:?})"),
            STARTUP,
        )
        .await;
    }

    /// Evaluates `expression` until it is truthy (or `timeout` passes: then panics, naming
    /// `what` and what the page showed). Returns its last value.
    pub async fn wait_until(
        &self,
        what: &str,
        expression: &str,
        timeout: Duration,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(expression).await;
            let truthy = match &value {
                serde_json::Value::Null => false,
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::String(s) => !s.is_empty(),
                serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let shown = self.eval(PAGE_TEXT).await;
                self.screenshot_failure().await;
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the page shows:\n{}",
                    shown.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A picture of the window when a wait failed, named after the state directory.
    async fn screenshot_failure(&self) {
        let name = format!(
            "FAILED-{}",
            self.home
                .path()
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        );
        let path = self.screenshot(&name).await;
        eprintln!("the window at the failure: {}", path.display());
    }

    /// Saves a PNG of the window as `artifacts/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // WebKit's snapshot shows the last painted frame, which can lag the DOM the test
        // just checked: wait for two animation frames so the picture matches.
        self.client()
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await
            .expect("wait for paint");
        let png = self.client().screenshot().await.expect("screenshot");
        // PGRELOCATE_SCREENSHOT_DIR keeps a run's pictures apart (e.g. of the release build).
        let dir = std::env::var_os("PGRELOCATE_SCREENSHOT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/screenshots"));
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The app's own process (not the driver's, not WebKit's web process): the one running
    /// the app binary with this test's `PGRELOCATE_HOME`.
    pub fn app_pid(&self) -> Option<u32> {
        let home = format!("PGRELOCATE_HOME={}", self.home.path().display());
        let binary = app_binary();
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                // A rebuilt binary shows as "<path> (deleted)": compare the start of the link.
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                exe.to_string_lossy()
                    .starts_with(&*binary.to_string_lossy())
                    && environ.split(|b| *b == 0).any(|v| v == home.as_bytes())
            })
    }

    /// Resident memory of process `pid` in bytes (`VmRSS` of /proc/PID/status).
    pub fn rss_bytes(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kb * 1024)
    }

    /// Ends the session (WebKitWebDriver closes the window), then stops the driver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.expect("close WebDriver session");
        }
    }
}

impl Drop for DesktopApp {
    fn drop(&mut self) {
        // The app first: it may be using the instances removed next.
        self.driver.stop();
        if std::thread::panicking() {
            keep_logs(self.home.path());
        }
        remove_instances(self.home.path());
    }
}

/// Copies the app's log files to `artifacts/e2e-logs/<state dir name>/` (the state
/// directory itself is deleted with the test).
fn keep_logs(home: &Path) {
    let from = home.join("logs");
    let name = home.file_name().unwrap_or_default();
    let to = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts/e2e-logs")
        .join(name);
    let Ok(entries) = std::fs::read_dir(&from) else {
        return;
    };
    let _ = std::fs::create_dir_all(&to);
    for entry in entries.flatten() {
        let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
    }
    eprintln!("the app's logs are kept in {}", to.display());
}

/// tauri-driver in a process group of its own, with WebKitWebDriver and the app under it;
/// dropping it stops the whole group.
struct Driver {
    child: Child,
    port: u16,
    stopped: bool,
}

impl Driver {
    /// Starts tauri-driver for the app with state directory `home` and waits until it listens.
    fn start(home: &Path, ports: PortRange, env: &[(String, PathBuf)]) -> Driver {
        let port = free_port();
        // Two calls may return the same released port.
        let native_port = std::iter::repeat_with(free_port)
            .find(|p| *p != port)
            .expect("endless");
        let child = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("PGRELOCATE_HOME", home)
            .env(PORTS_ENV, ports.to_string())
            // The webview's local storage (the chosen language, the folded menu) per test, so
            // a test left in Chinese, or the developer's own choice, never leaks into another;
            // and English as the system language the console starts in.
            .env("XDG_DATA_HOME", home.join("webview-data"))
            .env("LANGUAGE", "en")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver");
        let mut driver = Driver {
            child,
            port,
            stopped: false,
        };
        // tauri-driver listens at once but starts WebKitWebDriver beside it; a session asked
        // for before that one listens fails ("did not respond"), which a loaded machine
        // made happen three times in a row. Wait for both.
        driver.wait_until_listening(port);
        driver.wait_until_listening(native_port);
        driver
    }

    fn wait_until_listening(&mut self, port: u16) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.child.try_wait().expect("poll tauri-driver") {
                panic!("tauri-driver exited with {status} before listening (see its stderr above)");
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the group, once.
    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let group = format!("-{}", self.child.id());
        signal_group("TERM", &group);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever ignored SIGTERM (the app itself, if WebKitWebDriver died first).
        signal_group("KILL", &group);
        let _ = self.child.wait();
        // Until the whole group is gone, its processes still hold the test's stderr
        // (nextest reports such a test as leaky).
        let deadline = Instant::now() + Duration::from_secs(2);
        while signal_group("0", &group) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes every instance stored in `home` (managed servers stopped, the folders
/// pgrelocate made deleted), on a thread of its own: a test's runtime may be unwinding.
pub fn remove_instances(home: &Path) {
    let shown = home.display().to_string();
    let home = home.to_path_buf();
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("cleanup runtime");
        runtime.block_on(async {
            let Ok(instances) = pgrelocate_engine::instances::Instances::open(&home) else {
                return;
            };
            let Ok(records) = instances.store().list_instances() else {
                return;
            };
            // Destinations first would not matter: each removal stops its own server.
            for record in records {
                if let Err(e) = instances.remove(record.name.as_str()).await {
                    eprintln!("cleanup: removing {} failed: {e}", record.name);
                }
            }
        });
    })
    .join();
    if done.is_err() {
        eprintln!("cleanup of the instances in {shown} panicked");
    }
}

/// Sends `signal` to process group `group` (`-PGID`); whether any process received it.
fn signal_group(signal: &str, group: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{signal}"), "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The app under test: `$PGRELOCATE_DESKTOP_BIN` (e.g. a release build from `tauri build`),
/// else the debug binary cargo built beside this test.
fn app_binary() -> PathBuf {
    std::env::var_os("PGRELOCATE_DESKTOP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pgrelocate-desktop")))
}

/// tauri-driver from `$TAURI_DRIVER`, else `PATH`, else the project's tools cache.
fn tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("tauri-driver"))
        .find(|p| p.is_file());
    let cached =
        std::env::var_os("HOME").map(|h| Path::new(&h).join(TOOLS_DIR).join("tauri-driver"));
    on_path
        .or(cached.filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "tauri-driver not found (set TAURI_DRIVER, put it on PATH, or run \
             `cargo install tauri-driver --version ^2 --locked --root ~/.cache/pgrelocate/tools`)"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free loopback port")
        .port()
}
