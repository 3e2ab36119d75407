//! The WebDriver harness of the browser tests (`browser`, `hosting`): `qbr serve` on a
//! fresh database ([`Server`]), headless Chromium driven over WebDriver by chromedriver
//! ([`Browser`]), and the built SPA: `dist/` for the root ([`dist`]) and a build for
//! the public path `/qbr/` ([`dist_qbr`]), each built by `trunk build` when missing.
//! Screenshots land in `target/screenshots/`.

use crate::common::TestDb;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PATH for trunk: the workspace's `node_modules/.bin` (for the stylesheet tools)
/// and `~/.cargo/bin` before the caller's.
pub(crate) fn trunk_path() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    format!(
        "{}:{home}/.cargo/bin:{}",
        workspace().join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Whether `trunk` can be run.
pub(crate) fn trunk_available() -> bool {
    Command::new("trunk")
        .arg("--version")
        .env("PATH", trunk_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `$var` if set, else `dir` under the workspace, built with `trunk build ARGS` when it
/// has no `index.html` yet (one build at a time: tests run in parallel).
fn built_spa(var: &str, dir: &str, args: &[&str]) -> PathBuf {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Ok(d) = std::env::var(var) {
        return PathBuf::from(d);
    }
    let dist = workspace().join(dir);
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    if !dist.join("index.html").exists() {
        let status = Command::new("trunk")
            .arg("build")
            .args(args)
            .current_dir(workspace())
            .env("PATH", trunk_path())
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "{dir}/ is missing and `trunk` can't run ({e}): run `trunk build {}` first",
                    args.join(" ")
                )
            });
        assert!(status.success(), "trunk build {} failed", args.join(" "));
    }
    dist
}

/// The built SPA: `$QBR_TEST_DIST`, else `dist/` (built with trunk when missing).
pub(crate) fn dist() -> PathBuf {
    built_spa("QBR_TEST_DIST", "dist", &[])
}

/// The SPA built for the public path `/qbr/`: `$QBR_TEST_DIST_QBR`, else
/// `target/dist-qbr/` (built with `trunk build --public-url /qbr/` when missing).
pub(crate) fn dist_qbr() -> PathBuf {
    built_spa(
        "QBR_TEST_DIST_QBR",
        "target/dist-qbr",
        &["--public-url", "/qbr/", "--dist", "target/dist-qbr"],
    )
}

pub(crate) fn browser_available() -> bool {
    let ok = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
    if !ok {
        eprintln!("NOTE: browser tests skipped: install chromium and chromium-driver (scripts/install-deps.sh --frontend)");
    }
    ok
}

/// Kills a child process when dropped.
pub(crate) struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver in a process group of its own, killed with the Chromium it started
/// when dropped (also when a test fails before closing its session). Any process
/// started with `process_group(0)` can be held so (`trunk serve` and its cargo).
pub(crate) struct Driver(pub(crate) Child);

impl Drop for Driver {
    fn drop(&mut self) {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        let pid = i32::try_from(self.0.id()).unwrap_or(0);
        if pid > 0 {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// The allow-listed user the browser signs in as.
pub(crate) const E2E_USER: &str = "e2e@example.com";

/// `qbr serve` on a fresh database.
pub(crate) struct Server {
    _proc: Proc,
    pub(crate) _db: TestDb,
    /// The port it listens on (127.0.0.1).
    pub(crate) port: u16,
    /// `http://127.0.0.1:{port}{QBR_PUBLIC_PATH}`: where the test's own calls go.
    pub(crate) base: String,
    /// Sends the write API key made for the test.
    pub(crate) http: reqwest::Client,
    /// No credentials, redirects not followed.
    pub(crate) anon: reqwest::Client,
}

/// How to start `qbr serve` ([`Server::start_opts`]).
#[derive(Default)]
pub(crate) struct ServerOptions {
    /// More environment, applied after the defaults (so it can replace them).
    pub(crate) env: Vec<(String, String)>,
    /// `QBR_DIST_DIR`; `None`: a directory that does not exist (the SPA is served by
    /// someone else).
    pub(crate) dist: Option<PathBuf>,
    /// `QBR_PUBLIC_PATH` (`/qbr`), empty for the root.
    pub(crate) public_path: String,
    /// The port to listen on; a free one when `None`.
    pub(crate) port: Option<u16>,
}

impl Server {
    pub(crate) async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// [`Server::start`] with more environment variables for `qbr serve`.
    pub(crate) async fn start_with(env: &[(&str, &str)]) -> Server {
        Server::start_opts(ServerOptions {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            dist: Some(dist()),
            ..ServerOptions::default()
        })
        .await
    }

    /// `qbr serve` as `opts` say: the development sign-in on for [`E2E_USER`],
    /// `API_BASE_URL` its own address unless `opts.env` says otherwise.
    pub(crate) async fn start_opts(opts: ServerOptions) -> Server {
        let db = TestDb::new().await;
        let port = opts.port.unwrap_or_else(free_port);
        let base = format!("http://127.0.0.1:{port}{}", opts.public_path);
        // The test's own HTTP calls use a write API key made with the CLI.
        let out = Command::new(env!("CARGO_BIN_EXE_qbr"))
            .args(["apikey", "create", "--name", "e2e", "--scope", "write"])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run qbr apikey create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-api-key", key.parse().unwrap());
        let dist = opts
            .dist
            .unwrap_or_else(|| std::env::temp_dir().join("qbr-test-no-dist-here"));
        // The browser signs in with the development sign-in.
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qbr"));
        cmd.arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("QBR_LISTEN", format!("127.0.0.1:{port}"))
            .env("QBR_DIST_DIR", dist)
            .env("AUTH_DEV_LOGIN", "true")
            .env("QBR_AUTHORIZED_USERS", E2E_USER)
            .env("API_BASE_URL", &base)
            .env("RUST_LOG", "warn");
        if !opts.public_path.is_empty() {
            cmd.env("QBR_PUBLIC_PATH", &opts.public_path);
        }
        let child = cmd
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qbr");
        let server = Server {
            _proc: Proc(child),
            _db: db,
            port,
            base,
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            anon: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = server.http.get(server.url("/api/health")).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "qbr did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    /// A session of [`E2E_USER`] made with the development sign-in, as the
    /// `qbr_session=...` pair a `Cookie` header carries.
    pub(crate) async fn session_cookie(&self) -> String {
        let r = self
            .anon
            .get(self.url(&format!("/api/auth/dev/login?email={E2E_USER}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "dev sign-in: {}", r.status());
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("qbr_session="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no session cookie: {:?}", r.headers()))
            .to_string()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs the browser in (development sign-in sets the session cookie).
    pub(crate) async fn sign_in(&self, b: &Browser) {
        b.goto(&self.url(&format!("/api/auth/dev/login?email={E2E_USER}")))
            .await;
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Value {
        let r = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn load_reference(&self) {
        for body in crate::common::reference_inputs() {
            self.post("/api/qbr/metrics/manual", &body).await;
        }
    }
}

/// A minimal WebDriver client (the few commands these tests need).
pub(crate) struct Browser {
    _driver: Driver,
    http: reqwest::Client,
    session: String,
    size: std::sync::Mutex<(u32, u32)>,
}

impl Browser {
    pub(crate) async fn start(tz: &str) -> Browser {
        Browser::start_with_args(tz, &[]).await
    }

    /// [`Browser::start`] with more Chromium arguments, e.g.
    /// `--host-resolver-rules=MAP *.qbr.test 127.0.0.1`.
    pub(crate) async fn start_with_args(tz: &str, extra_args: &[&str]) -> Browser {
        let port = free_port();
        use std::os::unix::process::CommandExt;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .env("TZ", tz)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1480,1500",
            "--lang=en-US",
        ];
        args.extend_from_slice(extra_args);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            // The console, for [`Browser::console`].
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let deadline = Instant::now() + Duration::from_secs(30);
        let session = loop {
            if let Ok(r) = http
                .post(format!("{base}/session"))
                .json(&caps)
                .send()
                .await
            {
                let v: Value = r.json().await.unwrap();
                let id = v["value"]["sessionId"].as_str().map(str::to_string);
                break id.unwrap_or_else(|| panic!("no WebDriver session: {v}"));
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        Browser {
            _driver: Driver(driver),
            http,
            session: format!("{base}/session/{session}"),
            size: std::sync::Mutex::new((1280, 800)),
        }
    }

    pub(crate) async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if !body.is_null() {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        v["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    pub(crate) async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until `script` returns something truthy (10 s), and returns it.
    pub(crate) async fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.js(script).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Object(o) => !o.contains_key("error"),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (last: {v})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The trimmed text of the first element matching `css`, once it has text.
    pub(crate) async fn text(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent.trim() : null;",
            json!(css)
        );
        self.wait_for(css, &script)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) async fn element(&self, css: &str) -> String {
        self.wait_for(
            css,
            &format!("return document.querySelector({}) !== null;", json!(css)),
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self
                .cmd(
                    reqwest::Method::POST,
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Some(id) = v[ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(Instant::now() < deadline, "can't find {css}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        // Select everything and type over it (real key events, as a person would).
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
        self.js(&format!(
            "const e = document.querySelector({}); e.select && e.select();",
            json!(css)
        ))
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Chooses a file in an `<input type=file>` (WebDriver: its absolute path as keys).
    pub(crate) async fn upload(&self, css: &str, path: &Path) {
        let id = self.element(css).await;
        let path = path.canonicalize().unwrap();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": path.to_str().unwrap()}),
        )
        .await;
    }

    /// Presses and releases one key (WebDriver key codes, e.g. `\u{E004}` for Tab) on
    /// whatever has the focus.
    pub(crate) async fn press(&self, key: &str) {
        self.cmd(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
            ]}]}),
        )
        .await;
    }

    /// Picks the option with `value` of a `<select>`, as a click would.
    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value={}]", json!(value)))
            .await;
        self.wait_for(
            &format!("{css} = {value}"),
            &format!(
                "return document.querySelector({}).value === {};",
                json!(css),
                json!(value)
            ),
        )
        .await;
    }

    /// Waits until `script` returns the string `expected` (15 s), saying what it
    /// returned otherwise.
    pub(crate) async fn wait_eq(&self, what: &str, script: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.js(script).await;
            if v.as_str() == Some(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: expected {expected:?}, got {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the `attr` attribute of `css` is `expected`.
    pub(crate) async fn wait_attr(&self, css: &str, attr: &str, expected: &str) {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.getAttribute({}) : null;",
            json!(css),
            json!(attr)
        );
        self.wait_eq(&format!("{css} {attr}"), &script, expected)
            .await;
    }

    /// Waits until the trimmed text of `css` is `expected`.
    pub(crate) async fn wait_text(&self, css: &str, expected: &str) {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent.trim() : null;",
            json!(css)
        );
        self.wait_eq(css, &script, expected).await;
    }

    /// Sets the viewport (not the window) to `w`×`h` CSS pixels.
    pub(crate) async fn resize(&self, w: u32, h: u32) {
        *self.size.lock().unwrap() = (w, h);
        self.cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride",
                   "params": {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}}),
        )
        .await;
    }

    /// Saves a PNG of the viewport into `target/screenshots/<name>.png`.
    pub(crate) async fn screenshot(&self, name: &str) {
        self.screenshot_at(name, 0).await;
    }

    /// [`Browser::screenshot`] of the viewport scrolled down to `css` (its top, below
    /// the sticky top bar); scrolls back to the top afterwards.
    pub(crate) async fn screenshot_of(&self, name: &str, css: &str) {
        let y = self
            .js(&format!(
                "const e = document.querySelector({}); const bar = document.querySelector('.topbar'); \
                 window.scrollTo(0, Math.max(0, e.getBoundingClientRect().top + window.scrollY - (bar ? bar.offsetHeight : 0) - 12)); \
                 return Math.floor(window.scrollY);",
                json!(css)
            ))
            .await
            .as_u64()
            .unwrap_or(0);
        self.screenshot_at(name, y).await;
        self.js("window.scrollTo(0, 0);").await;
    }

    /// The viewport as if scrolled `y` pixels down.
    pub(crate) async fn screenshot_at(&self, name: &str, y: u64) {
        use base64::Engine;
        // Let layout and charts settle.
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Through DevTools, so the image is exactly the emulated viewport (headless
        // windows are capped by the virtual screen).
        let (w, h) = *self.size.lock().unwrap();
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/goog/cdp/execute",
                json!({"cmd": "Page.captureScreenshot", "params": {"format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": y, "width": w, "height": h, "scale": 1}}}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["data"].as_str().unwrap())
            .unwrap();
        let dir = workspace().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The page's address now.
    pub(crate) async fn location(&self) -> String {
        self.js("return location.href;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The browser console's messages since the last call (level and text).
    pub(crate) async fn console(&self) -> Vec<String> {
        let v = self
            .cmd(reqwest::Method::POST, "/se/log", json!({"type": "browser"}))
            .await;
        v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) async fn close(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

pub(crate) fn card_value(key: &str) -> String {
    format!("[data-key=\"{key}\"] .card-value")
}

pub(crate) async fn card_status(b: &Browser, key: &str) -> String {
    b.wait_for(
        key,
        &format!("const e = document.querySelector('[data-key=\"{key}\"]'); return e && e.dataset.status;"),
    )
    .await
    .as_str()
    .unwrap()
    .to_string()
}

/// A stored input as the API reports it: (value, data_source).
pub(crate) async fn stored(server: &Server, period: &str, metric: &str) -> Option<(f64, String)> {
    let v = server
        .get(&format!("/api/qbr/metrics/monthly?period={period}"))
        .await;
    v["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric_name"] == metric)
        .map(|m| {
            (
                m["value"].as_f64().unwrap(),
                m["data_source"].as_str().unwrap().to_string(),
            )
        })
}
