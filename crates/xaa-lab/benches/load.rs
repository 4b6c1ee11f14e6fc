//! The load driver of `scripts/bench.sh`: drives a running `lab` (found through its ready file)
//! over loopback and prints one `RESULT key=value …` line per measurement.
//!
//! ```text
//! cargo bench -p xaa-lab --bench load -- testlab-start [--runs 20]
//! cargo bench -p xaa-lab --bench load -- exchange   --ready F [--concurrency 8] [--seconds 10]
//! cargo bench -p xaa-lab --bench load -- jwt-bearer --ready F [--concurrency 8] [--requests 5000]
//! cargo bench -p xaa-lab --bench load -- api        --ready F [--concurrency 8] [--seconds 10]
//! cargo bench -p xaa-lab --bench load -- flow       --ready F [--concurrency 1] [--seconds 10]
//! cargo bench -p xaa-lab --bench load -- workshop   --ready F [--users 500] [--concurrency 64]
//!                                                   [--seconds 30] [--trace-pages 20]
//! cargo bench -p xaa-lab --bench load -- trace-pollers --ready F [--concurrency 8] [--seconds 10]
//!                                                   [--pollers 20] [--etag yes|no]
//! ```
//!
//! It runs on one thread (pin it with `taskset`), so it never competes with the server for more
//! than the core it is given. `api` is `GET /api/todos` with one access token (one signature check
//! per call). `flow` is the whole XAA chain a requestor runs per page view: token
//! exchange, jwt-bearer, `GET /api/todos`. `workshop` is a room: `--users` distinct people each
//! sign in through the IdP's login pages and run the whole flow plus a todo write
//! (`--concurrency` at a time), then the API is called with their tokens for `--seconds`
//! (a `GET /api/todos` and every fourth call a `POST`), while `--trace-pages` console trace pages
//! are open (each loads `/trace` and follows its live stream, as the page's script does).
//! `trace-pollers` is the full flow while `--pollers` clients each fetch `/trace.json` and
//! `/trace` every second (with `--etag yes` sending back the `ETag` they last got in
//! `If-None-Match`, as a browser does; `no`: the hostile case, always the whole page).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xaa_core::ids::{Issuer, ResourceUri};
use xaa_core::oauth::{
    AuthorizationCodeRequest, GrantRequest, JwtBearerRequest, SubjectTokenType, TokenExchangeRequest,
};

type Error = Box<dyn std::error::Error>;

struct Args {
    mode: String,
    ready: Option<String>,
    concurrency: usize,
    seconds: f64,
    requests: usize,
    runs: usize,
    users: usize,
    trace_pages: usize,
    pollers: usize,
    etag: bool,
}

fn args() -> Result<Args, Error> {
    let mut a = Args {
        mode: String::new(),
        ready: None,
        concurrency: 8,
        seconds: 10.0,
        requests: 5000,
        runs: 20,
        users: 500,
        trace_pages: 20,
        pollers: 20,
        etag: true,
    };
    let mut it = std::env::args().skip(1).filter(|s| s != "--bench");
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--ready" => a.ready = Some(value()?),
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--requests" => a.requests = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
            "--users" => a.users = value()?.parse()?,
            "--trace-pages" => a.trace_pages = value()?.parse()?,
            "--pollers" => a.pollers = value()?.parse()?,
            "--etag" => a.etag = value()? == "yes",
            m if !m.starts_with('-') && a.mode.is_empty() => a.mode = m.to_owned(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// The lab under load, as its ready file describes it, with a signed-in user's ID token.
struct Target {
    http: reqwest::Client,
    idp: String,
    authz: String,
    api: String,
    console: String,
    env: Value,
    ca: Option<Vec<u8>>,
    id_token: String,
}

impl Target {
    async fn connect(ready: &str) -> Result<Self, Error> {
        let ready: Value = serde_json::from_slice(&std::fs::read(ready)?)?;
        let s = |k: &str| ready[k].as_str().map(str::to_owned).ok_or_else(|| format!("no {k} in the ready file"));
        let (idp, authz, api, console) = (s("idp")?, s("authorization_server")?, s("todo_api")?, s("console")?);
        let ca = ready["ca_cert"].as_str().map(std::fs::read).transpose()?;
        let http = xaa_lab::testing::browser_client(ca.as_deref(), false);
        let mut t = Self { http, idp, authz, api, console, env: ready["env"].clone(), ca, id_token: String::new() };
        t.id_token = t.sign_in("load@acme.example").await?;
        Ok(t)
    }

    /// A person signing in through the IdP's login pages (own cookie jar), then the code grant
    /// with PKCE: their ID token.
    async fn sign_in(&self, email: &str) -> Result<String, Error> {
        let browser = xaa_lab::testing::browser_client(self.ca.as_deref(), true);
        let verifier = "load-driver-verifier-0123456789-0123456789-0123456789";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", self.env("CLIENT_ID"))
            .append_pair("redirect_uri", self.env("REDIRECT_URI"))
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email profile")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let idp = &self.idp;
        let location =
            xaa_lab::testing::login_via_pages(idp, &browser, &format!("{idp}/authorize?{query}"), email).await?;
        let code = reqwest::Url::parse(&location)?
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or("no code in the login redirect")?;
        let resp = self
            .http
            .post(format!("{idp}/token"))
            .form(
                &AuthorizationCodeRequest {
                    code,
                    redirect_uri: self.env("REDIRECT_URI").to_owned(),
                    code_verifier: verifier.to_owned(),
                }
                .to_form_posting(self.env("CLIENT_ID"), self.env("CLIENT_SECRET")),
            )
            .send()
            .await?;
        field(resp, "id_token").await
    }

    fn env(&self, k: &str) -> &str {
        self.env[k].as_str().unwrap_or_default()
    }

    async fn exchange(&self) -> Result<String, Error> {
        self.exchange_for(&self.id_token, "todos.read").await
    }

    async fn exchange_for(&self, id_token: &str, scope: &str) -> Result<String, Error> {
        let resp = self
            .http
            .post(format!("{}/token", self.idp))
            .form(
                &TokenExchangeRequest::for_id_jag(
                    id_token,
                    SubjectTokenType::IdToken,
                    Issuer::new(self.authz.as_str()),
                    ResourceUri::new(self.api.as_str()),
                    scope,
                )
                .to_form_posting(self.env("CLIENT_ID"), self.env("CLIENT_SECRET")),
            )
            .send()
            .await?;
        field(resp, "access_token").await
    }

    async fn jwt_bearer(&self, id_jag: &str) -> Result<String, Error> {
        let resp = self
            .http
            .post(format!("{}/token", self.authz))
            .form(
                &JwtBearerRequest::new(id_jag)
                    .to_form_posting(self.env("RESOURCE_CLIENT_ID"), self.env("RESOURCE_CLIENT_SECRET")),
            )
            .send()
            .await?;
        field(resp, "access_token").await
    }

    async fn todos(&self, access_token: &str) -> Result<(), Error> {
        let resp = self.http.get(format!("{}/api/todos", self.api)).bearer_auth(access_token).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if status != 200 {
            return Err(format!("todo API answered {status}").into());
        }
        drop(body);
        Ok(())
    }

    async fn create_todo(&self, access_token: &str, title: &str) -> Result<(), Error> {
        let resp = self
            .http
            .post(format!("{}/api/todos", self.api))
            .bearer_auth(access_token)
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await?;
        match resp.status().as_u16() {
            200 | 201 => Ok(()),
            s => Err(format!("creating a todo: {s} {}", resp.text().await.unwrap_or_default()).into()),
        }
    }

    /// One person's whole morning: sign in through the pages, exchange, jwt-bearer, read the
    /// todos, write one. Their access token.
    async fn newcomer(&self, i: usize) -> Result<String, Error> {
        let id_token = self.sign_in(&format!("attendee{i}@acme.example")).await?;
        let jag = self.exchange_for(&id_token, "todos.read todos.write").await?;
        let at = self.jwt_bearer(&jag).await?;
        self.todos(&at).await?;
        self.create_todo(&at, &format!("Workshop task of attendee {i}")).await?;
        Ok(at)
    }
}

/// A console trace page left open: loads `/trace`, then follows its live stream of rendered rows
/// until `until`, as the page's script does. The bytes it received.
async fn trace_page(http: reqwest::Client, console: String, until: Instant) -> Result<usize, Error> {
    let page = http.get(format!("{console}/trace")).send().await?.bytes().await?;
    let mut received = page.len();
    let mut stream = http.get(format!("{console}/trace/events?view=html")).send().await?;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until.into(), stream.chunk()).await {
        received += chunk.len();
    }
    Ok(received)
}

async fn field(resp: reqwest::Response, name: &str) -> Result<String, Error> {
    let status = resp.status();
    let body: Value = resp.json().await?;
    match body[name].as_str() {
        Some(v) if status == 200 => Ok(v.to_owned()),
        _ => Err(format!("{status}: {body}").into()),
    }
}

/// Latencies of one measurement.
struct Sample {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Sample {
    fn print(mut self, mode: &str, concurrency: usize) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len().max(1)) - 1;
            self.latencies.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
        };
        let n = self.latencies.len();
        println!(
            "RESULT mode={mode} concurrency={concurrency} ok={n} errors={} seconds={:.2} per_second={:.1} p50_ms={:.3} p99_ms={:.3}",
            self.errors,
            self.elapsed.as_secs_f64(),
            n as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
        );
    }
}

/// Runs `job` from `concurrency` tasks until `deadline` or until `jobs` is exhausted.
async fn drive<F, Fut>(concurrency: usize, deadline: Option<Instant>, jobs: Option<usize>, job: F) -> Sample
where
    F: Fn(usize) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), Error>> + 'static,
{
    let next = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        handles.push(local.spawn_local(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            loop {
                let i = next.get();
                if jobs.is_some_and(|n| i >= n) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                next.set(i + 1);
                let t = Instant::now();
                match job(i).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("load: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let results = local
        .run_until(async move {
            let mut all = Vec::new();
            for h in handles {
                all.push(h.await.unwrap_or_default());
            }
            all
        })
        .await;
    let elapsed = started.elapsed();
    let mut sample = Sample { latencies: Vec::new(), errors: 0, elapsed };
    for (lat, errors) in results {
        sample.latencies.extend(lat);
        sample.errors += errors;
    }
    sample
}

async fn run(a: Args) -> Result<(), Error> {
    if a.mode == "testlab-start" {
        let mut ms = Vec::new();
        for _ in 0..a.runs {
            let t = Instant::now();
            let lab = xaa_lab::testing::TestLab::builder().start().await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            drop(lab);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "RESULT mode=testlab-start runs={} median_ms={:.2} min_ms={:.2} max_ms={:.2}",
            ms.len(),
            ms[ms.len() / 2],
            ms[0],
            ms[ms.len() - 1]
        );
        return Ok(());
    }
    let ready = a.ready.as_deref().ok_or("--ready FILE is required")?;
    let t = std::rc::Rc::new(Target::connect(ready).await?);
    let deadline = Some(Instant::now() + Duration::from_secs_f64(a.seconds));
    let sample = match a.mode.as_str() {
        "exchange" => {
            let t = t.clone();
            drive(a.concurrency, deadline, None, move |_| {
                let t = t.clone();
                async move { t.exchange().await.map(drop) }
            })
            .await
        }
        "jwt-bearer" => {
            // Fresh ID-JAGs first (each is single use), untimed.
            let jags = std::rc::Rc::new(std::cell::RefCell::new(Vec::with_capacity(a.requests)));
            let (tt, jj) = (t.clone(), jags.clone());
            let made = drive(8, None, Some(a.requests), move |_| {
                let (t, j) = (tt.clone(), jj.clone());
                async move {
                    let jag = t.exchange().await?;
                    j.borrow_mut().push(jag);
                    Ok(())
                }
            })
            .await;
            if made.errors > 0 {
                return Err(format!("{} exchanges failed while preparing ID-JAGs", made.errors).into());
            }
            let jags = std::rc::Rc::new(std::mem::take(&mut *jags.borrow_mut()));
            let t = t.clone();
            drive(a.concurrency, None, Some(jags.len()), move |i| {
                let (t, jags) = (t.clone(), jags.clone());
                async move { t.jwt_bearer(&jags[i]).await.map(drop) }
            })
            .await
        }
        "flow" => {
            let t = t.clone();
            drive(a.concurrency, deadline, None, move |_| {
                let t = t.clone();
                async move {
                    let jag = t.exchange().await?;
                    let at = t.jwt_bearer(&jag).await?;
                    t.todos(&at).await
                }
            })
            .await
        }
        "api" => {
            // One access token (untimed), then `GET /api/todos` with it: one signature check each.
            let jag = t.exchange().await?;
            let at = std::rc::Rc::new(t.jwt_bearer(&jag).await?);
            let t = t.clone();
            drive(a.concurrency, deadline, None, move |_| {
                let (t, at) = (t.clone(), at.clone());
                async move { t.todos(&at).await }
            })
            .await
        }
        "workshop" => return workshop(&a, t).await,
        "trace-pollers" => return trace_pollers(&a, t).await,
        other => {
            return Err(format!(
                "unknown mode {other:?}: testlab-start, exchange, jwt-bearer, api, flow, workshop or trace-pollers"
            )
            .into());
        }
    };
    sample.print(&a.mode, a.concurrency);
    Ok(())
}

/// The `workshop` measurement: sign-ins and flows of `--users` people, then steady API traffic,
/// with `--trace-pages` trace pages open throughout. One RESULT line per phase.
async fn workshop(a: &Args, t: std::rc::Rc<Target>) -> Result<(), Error> {
    let far = Instant::now() + Duration::from_secs(3600);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let local = tokio::task::LocalSet::new();
    let pages: Vec<_> = (0..a.trace_pages)
        .map(|_| {
            let (http, console, mut stop) = (t.http.clone(), t.console.clone(), stop_rx.clone());
            local.spawn_local(async move {
                tokio::select! {
                    r = trace_page(http, console, far) => r,
                    _ = stop.changed() => Ok(0),
                }
            })
        })
        .collect();
    let (users, concurrency, seconds) = (a.users, a.concurrency, a.seconds);
    local
        .run_until(async move {
            let tokens = std::rc::Rc::new(std::cell::RefCell::new(Vec::with_capacity(users)));
            let (tt, tk) = (t.clone(), tokens.clone());
            let morning = drive(concurrency, None, Some(users), move |i| {
                let (t, tokens) = (tt.clone(), tk.clone());
                async move {
                    let at = t.newcomer(i).await?;
                    tokens.borrow_mut().push(at);
                    Ok(())
                }
            })
            .await;
            morning.print("workshop-sign-in-and-flow", concurrency);
            let tokens = std::rc::Rc::new(std::mem::take(&mut *tokens.borrow_mut()));
            if tokens.is_empty() {
                return Err::<(), Error>("no attendee got an access token".into());
            }
            let deadline = Some(Instant::now() + Duration::from_secs_f64(seconds));
            let steady = drive(concurrency, deadline, None, move |i| {
                let (t, tokens) = (t.clone(), tokens.clone());
                async move {
                    let at = &tokens[i % tokens.len()];
                    if i % 4 == 3 { t.create_todo(at, "steady write").await } else { t.todos(at).await }
                }
            })
            .await;
            steady.print("workshop-steady-api", concurrency);
            let _ = stop_tx.send(true);
            let mut page_errors = 0;
            for p in pages {
                if !matches!(p.await, Ok(Ok(_))) {
                    page_errors += 1;
                }
            }
            println!("RESULT mode=workshop-trace-pages pages={} errors={page_errors}", a.trace_pages);
            Ok(())
        })
        .await
}

/// What the trace pollers got.
#[derive(Default)]
struct Polls {
    ok: usize,
    not_modified: usize,
    busy: usize,
    errors: usize,
    bytes: usize,
}

/// One client polling `/trace.json` and `/trace` every second until `stop`.
async fn trace_poller(
    http: reqwest::Client,
    console: String,
    etag: bool,
    polls: std::rc::Rc<std::cell::RefCell<Polls>>,
) {
    let mut tags: [Option<reqwest::header::HeaderValue>; 2] = [None, None];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for (i, path) in ["/trace.json", "/trace"].iter().enumerate() {
            let mut req = http.get(format!("{console}{path}"));
            if let (true, Some(tag)) = (etag, &tags[i]) {
                req = req.header(reqwest::header::IF_NONE_MATCH, tag.clone());
            }
            let got = async {
                let resp = req.send().await?;
                let (status, tag) = (resp.status(), resp.headers().get(reqwest::header::ETAG).cloned());
                Ok::<_, reqwest::Error>((status, tag, resp.bytes().await?.len()))
            };
            let got = got.await;
            let mut p = polls.borrow_mut();
            match got {
                Ok((s, tag, n)) if s == 200 => (p.ok, p.bytes, tags[i]) = (p.ok + 1, p.bytes + n, tag),
                Ok((s, _, _)) if s == 304 => p.not_modified += 1,
                Ok((s, _, _)) if s == 503 => p.busy += 1,
                _ => p.errors += 1,
            }
        }
    }
}

/// The `trace-pollers` measurement: the full flow at `--concurrency` for `--seconds` while
/// `--pollers` clients poll the trace. One RESULT line for the flow, one for the polls.
async fn trace_pollers(a: &Args, t: std::rc::Rc<Target>) -> Result<(), Error> {
    let polls = std::rc::Rc::new(std::cell::RefCell::new(Polls::default()));
    let local = tokio::task::LocalSet::new();
    let pollers: Vec<_> = (0..a.pollers)
        .map(|_| {
            // Each its own connection, as separate browsers would have.
            let http = xaa_lab::testing::browser_client(t.ca.as_deref(), false);
            local.spawn_local(trace_poller(http, t.console.clone(), a.etag, polls.clone()))
        })
        .collect();
    let (concurrency, seconds) = (a.concurrency, a.seconds);
    local
        .run_until(async move {
            let deadline = Some(Instant::now() + Duration::from_secs_f64(seconds));
            let flow = drive(concurrency, deadline, None, move |_| {
                let t = t.clone();
                async move {
                    let jag = t.exchange().await?;
                    let at = t.jwt_bearer(&jag).await?;
                    t.todos(&at).await
                }
            })
            .await;
            flow.print("trace-pollers-flow", concurrency);
        })
        .await;
    for p in pollers {
        p.abort();
    }
    let p = polls.borrow();
    println!(
        "RESULT mode=trace-pollers-polls pollers={} etag={} ok={} not_modified={} busy={} errors={} mb={:.1}",
        a.pollers,
        if a.etag { "yes" } else { "no" },
        p.ok,
        p.not_modified,
        p.busy,
        p.errors,
        p.bytes as f64 / 1e6
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let result = args().and_then(|a| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(run(a))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
