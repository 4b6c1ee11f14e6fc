//! The load driver of `scripts/bench.sh`: drives a running `lab` (found through its ready file)
//! over loopback and prints one `RESULT key=value …` line per measurement.
//!
//! ```text
//! cargo bench -p xaa-lab --bench load -- testlab-start [--runs 20]
//! cargo bench -p xaa-lab --bench load -- exchange   --ready F [--concurrency 8] [--seconds 10]
//! cargo bench -p xaa-lab --bench load -- jwt-bearer --ready F [--concurrency 8] [--requests 5000]
//! cargo bench -p xaa-lab --bench load -- flow       --ready F [--concurrency 1] [--seconds 10]
//! ```
//!
//! It runs on one thread (pin it with `taskset`), so it never competes with the server for more
//! than the core it is given. `flow` is the whole XAA chain a requestor runs per page view: token
//! exchange, jwt-bearer, `GET /api/todos`.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xaa_core::urn;

type Error = Box<dyn std::error::Error>;

struct Args {
    mode: String,
    ready: Option<String>,
    concurrency: usize,
    seconds: f64,
    requests: usize,
    runs: usize,
}

fn args() -> Result<Args, Error> {
    let mut a = Args { mode: String::new(), ready: None, concurrency: 8, seconds: 10.0, requests: 5000, runs: 20 };
    let mut it = std::env::args().skip(1).filter(|s| s != "--bench");
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--ready" => a.ready = Some(value()?),
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--requests" => a.requests = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
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
    env: Value,
    id_token: String,
}

impl Target {
    async fn connect(ready: &str) -> Result<Self, Error> {
        let ready: Value = serde_json::from_slice(&std::fs::read(ready)?)?;
        let s = |k: &str| ready[k].as_str().map(str::to_owned).ok_or_else(|| format!("no {k} in the ready file"));
        let (idp, authz, api) = (s("idp")?, s("authorization_server")?, s("todo_api")?);
        let env = ready["env"].clone();
        let e = |k: &str| env[k].as_str().unwrap_or_default().to_owned();
        let ca = ready["ca_cert"].as_str().map(std::fs::read).transpose()?;
        let browser = xaa_lab::testing::browser_client(ca.as_deref(), true);
        let verifier = "load-driver-verifier-0123456789-0123456789-0123456789";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &e("CLIENT_ID"))
            .append_pair("redirect_uri", &e("REDIRECT_URI"))
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email profile")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let location =
            xaa_lab::testing::login_via_pages(&idp, &browser, &format!("{idp}/authorize?{query}"), "load@acme.example")
                .await?;
        let code = reqwest::Url::parse(&location)?
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or("no code in the login redirect")?;
        let http = xaa_lab::testing::browser_client(ca.as_deref(), false);
        let token: Value = http
            .post(format!("{idp}/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", &e("REDIRECT_URI")),
                ("code_verifier", verifier),
                ("client_id", &e("CLIENT_ID")),
                ("client_secret", &e("CLIENT_SECRET")),
            ])
            .send()
            .await?
            .json()
            .await?;
        let id_token = token["id_token"].as_str().ok_or("no id_token from the code grant")?.to_owned();
        Ok(Self { http, idp, authz, api, env, id_token })
    }

    fn env(&self, k: &str) -> &str {
        self.env[k].as_str().unwrap_or_default()
    }

    async fn exchange(&self) -> Result<String, Error> {
        let resp = self
            .http
            .post(format!("{}/token", self.idp))
            .form(&[
                ("grant_type", urn::GRANT_TOKEN_EXCHANGE),
                ("requested_token_type", urn::TOKEN_TYPE_ID_JAG),
                ("audience", &self.authz),
                ("resource", &self.api),
                ("scope", "todos.read"),
                ("subject_token", &self.id_token),
                ("subject_token_type", urn::TOKEN_TYPE_ID_TOKEN),
                ("client_id", self.env("CLIENT_ID")),
                ("client_secret", self.env("CLIENT_SECRET")),
            ])
            .send()
            .await?;
        field(resp, "access_token").await
    }

    async fn jwt_bearer(&self, id_jag: &str) -> Result<String, Error> {
        let resp = self
            .http
            .post(format!("{}/token", self.authz))
            .form(&[
                ("grant_type", urn::GRANT_JWT_BEARER),
                ("assertion", id_jag),
                ("client_id", self.env("RESOURCE_CLIENT_ID")),
                ("client_secret", self.env("RESOURCE_CLIENT_SECRET")),
            ])
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
        other => return Err(format!("unknown mode {other:?}: testlab-start, exchange, jwt-bearer or flow").into()),
    };
    sample.print(&a.mode, a.concurrency);
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
