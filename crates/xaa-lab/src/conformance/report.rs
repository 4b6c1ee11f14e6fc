//! A run's results for people ([`Report::table`]), for programs ([`Report::json`]) and for CI
//! ([`Report::junit`]: JUnit XML, one `<testcase>` per check, a failed MUST as `<failure>`).

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::Serialize;

use super::grade::cut;
use super::{Case, Verdict};

/// The results of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `as` or `resource`.
    pub kind: &'static str,
    /// The URL checked (a token endpoint, or the endpoint of a resource).
    pub target: String,
    /// What the server under test is configured with to trust the lab, as `(what, value)`.
    pub trust: Vec<(String, String)>,
    /// One case per check, in the order they ran.
    pub cases: Vec<Case>,
    /// What the reader should know to read the cases (e.g. the valid token was refused).
    pub notes: Vec<String>,
}

/// How many cases came out each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every case.
    pub total: usize,
    /// ✓
    pub passed: usize,
    /// ✗: a MUST not met.
    pub failed: usize,
    /// !: a SHOULD not met.
    pub warnings: usize,
    /// –: not run.
    pub skipped: usize,
}

impl Report {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let count = |v: Verdict| self.cases.iter().filter(|c| c.verdict == v).count();
        Summary {
            total: self.cases.len(),
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            warnings: count(Verdict::Warning),
            skipped: count(Verdict::Skipped),
        }
    }

    /// Whether every MUST was met (the exit status of `lab check`).
    pub fn passed(&self) -> bool {
        self.summary().failed == 0
    }

    /// One line: `28 checks: 25 passed, 1 failed (MUST), 2 warnings, 0 skipped`.
    pub fn summary_line(&self) -> String {
        let s = self.summary();
        format!(
            "{} checks: {} passed, {} failed (MUST), {} warnings (SHOULD), {} skipped",
            s.total, s.passed, s.failed, s.warnings, s.skipped
        )
    }

    /// The title of the run.
    pub fn title(&self) -> String {
        let what = if self.kind == "as" { "authorization server" } else { "protected resource" };
        format!("lab check {}: {what} {}", self.kind, self.target)
    }

    /// The results as a table: the trust set-up, one row per case (✓ ✗ ! or –, the check, what
    /// the specs expect, what came back, and under it the rule), then what the lab sent and got
    /// for each case that did not pass.
    pub fn table(&self) -> String {
        let mut out = format!("{}\n\nThe server under test trusts the lab as follows:\n", self.title());
        let width = self.trust.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (k, v) in &self.trust {
            out.push_str(&format!("  {k:<width$}  {v}\n"));
        }
        out.push('\n');
        let rule = |c: &Case| match c.level {
            // "lab decision A21" says its level itself.
            xaa_core::spec::Level::LabDecision => c.spec.to_string(),
            level => format!("{} {}", level.label(), c.spec),
        };
        let rows: Vec<[String; 3]> = self
            .cases
            .iter()
            .map(|c| [format!("{} {}", c.verdict.mark(), c.id), c.expected.clone(), cut(&c.observed, 70)])
            .collect();
        let header = ["  check".to_owned(), "expected".to_owned(), "observed".to_owned()];
        let w: Vec<usize> =
            (0..2).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
        out.push_str(&format!("{:<w0$}  {:<w1$}  {}\n", header[0], header[1], header[2], w0 = w[0], w1 = w[1]));
        for (row, case) in rows.iter().zip(&self.cases) {
            out.push_str(&format!("{:<w0$}  {:<w1$}  {}\n", row[0], row[1], row[2], w0 = w[0], w1 = w[1]));
            out.push_str(&format!("{:<w0$}  rule: {}\n", "", rule(case), w0 = w[0]));
        }
        let not_passed: Vec<&Case> = self.cases.iter().filter(|c| c.verdict != Verdict::Pass).collect();
        if !not_passed.is_empty() {
            out.push_str("\nNot passed:\n");
            for c in not_passed {
                out.push_str(&format!(
                    "{} {}: sent {}\n    expected {}\n    observed {}\n    rule: {}\n",
                    c.verdict.mark(),
                    c.id,
                    c.sent,
                    c.expected,
                    cut(&c.observed, 400),
                    rule(c)
                ));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("\nNote: {note}\n"));
        }
        out.push_str(&format!("\n{}\n", self.summary_line()));
        out
    }

    /// The results as JSON: the report with its summary.
    pub fn json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["summary"] = serde_json::to_value(self.summary()).unwrap_or_default();
        value["trust"] = self.trust.iter().map(|(k, v)| serde_json::json!({ "what": k, "value": v })).collect();
        value
    }

    /// The results as JUnit XML: one `<testsuite>` per report, one `<testcase>` per case; a failed
    /// MUST is a `<failure>`, a skipped check `<skipped>`, a warning passes with its text in
    /// `<system-out>`.
    pub fn junit(reports: &[Report]) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let total = |f: fn(&Summary) -> usize| reports.iter().map(|r| f(&r.summary())).sum::<usize>().to_string();
        let written: io::Result<()> = (|| {
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            w.create_element("testsuites")
                .with_attributes([
                    ("name", "lab check"),
                    ("tests", total(|s| s.total).as_str()),
                    ("failures", total(|s| s.failed).as_str()),
                    ("errors", "0"),
                    ("skipped", total(|s| s.skipped).as_str()),
                ])
                .write_inner_content(|w| {
                    for report in reports {
                        report.junit_suite(w)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })();
        match written {
            Ok(()) => String::from_utf8(w.into_inner()).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    fn junit_suite(&self, w: &mut Writer<Vec<u8>>) -> io::Result<()> {
        let s = self.summary();
        let seconds = |millis: u64| format!("{:.3}", millis as f64 / 1000.0);
        let time: u64 = self.cases.iter().map(|c| c.millis).sum();
        w.create_element("testsuite")
            .with_attributes([
                ("name", self.title().as_str()),
                ("tests", s.total.to_string().as_str()),
                ("failures", s.failed.to_string().as_str()),
                ("errors", "0"),
                ("skipped", s.skipped.to_string().as_str()),
                ("time", seconds(time).as_str()),
            ])
            .write_inner_content(|w| {
                for c in &self.cases {
                    let detail = format!(
                        "sent: {}\nexpected: {}\nobserved: {}\nrule: {} {}",
                        c.sent,
                        c.expected,
                        c.observed,
                        c.level.label(),
                        c.spec
                    );
                    let case = w.create_element("testcase").with_attributes([
                        ("classname", format!("lab.check.{}", self.kind).as_str()),
                        ("name", c.id),
                        ("time", seconds(c.millis).as_str()),
                    ]);
                    match c.verdict {
                        Verdict::Pass => {
                            case.write_empty()?;
                        }
                        Verdict::Fail => {
                            case.write_inner_content(|w| {
                                w.create_element("failure")
                                    .with_attributes([
                                        ("message", cut(&c.observed, 300).replace(['\n', '\r'], " ").as_str()),
                                        ("type", c.level.label()),
                                    ])
                                    .write_text_content(BytesText::new(&detail))?;
                                Ok(())
                            })?;
                        }
                        Verdict::Warning => {
                            case.write_inner_content(|w| {
                                w.create_element("system-out")
                                    .write_text_content(BytesText::new(&format!("warning: {detail}")))?;
                                Ok(())
                            })?;
                        }
                        Verdict::Skipped => {
                            case.write_inner_content(|w| {
                                w.create_element("skipped")
                                    .with_attribute(("message", c.observed.as_str()))
                                    .write_empty()?;
                                Ok(())
                            })?;
                        }
                    }
                }
                Ok(())
            })?;
        Ok(())
    }
}
