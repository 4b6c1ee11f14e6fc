//! The registry held to the draft's section map, and the workspace held to the registry.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(number, title)` of every section of the draft-04 section map.
fn draft_04_sections() -> Vec<(String, String)> {
    let map = std::fs::read_to_string(workspace().join("docs/spec/draft-04-sections.txt")).unwrap();
    map.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (number, title) = l.split_once("  ").unwrap_or_else(|| panic!("no two spaces in {l:?}"));
            (number.to_owned(), title.to_owned())
        })
        .collect()
}

#[test]
fn every_draft_04_reference_has_the_number_and_title_of_the_drafts_section_map() {
    let map = draft_04_sections();
    for r in ALL.iter().filter(|r| r.doc == Doc::IdJag) {
        let found = map.iter().find(|(n, _)| n == r.section);
        assert_eq!(found.map(|(_, t)| t.as_str()), Some(r.title), "{r} in docs/spec/draft-04-sections.txt");
    }
}

#[test]
fn each_row_is_in_the_table_once_and_says_why() {
    let mut seen = HashSet::new();
    for r in ALL {
        assert!(seen.insert((format!("{:?}", r.doc), r.section)), "{r} twice");
        assert!(!r.title.is_empty() && !r.why.is_empty(), "{r} has no title or why");
        assert_eq!(r.doc == Doc::Lab, r.level == Level::LabDecision, "{r}: a lab decision is a Lab row");
    }
}

#[test]
fn a_citation_reads_as_its_references_and_names_its_decision() {
    let jti = Citation::of(&[LAB_A2, MCP_SINGLE_USE, RFC7523_3_ITEM_7]);
    assert_eq!(jti.to_string(), "lab decision A2, MCP enterprise-managed authorization, RFC 7523 §3 item 7");
    assert_eq!(jti.decision().map(|d| d.section), Some("A2"));
    assert_eq!(jti.level(), Level::LabDecision);
    let claims = Citation::from(&IDJAG_3_1);
    assert_eq!(claims.to_string(), "draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1");
    assert_eq!((claims.decision(), claims.level()), (None, Level::Must));
    assert_eq!(serde_json::to_value(claims).unwrap(), serde_json::json!(claims.to_string()));
    let two = Citation::of(&[RFC9068_2_1, RFC9068_4, RFC8414_3]);
    assert_eq!(two.to_string(), "RFC 9068 §2.1, §4, RFC 8414 §3");
}

#[test]
fn a_decision_is_labelled_with_its_id_and_the_texts_it_decides_on_stay_apart() {
    let scope = Citation::of(&[LAB_A14, IDJAG_4_3_3, RFC6749_5_2]);
    let decision = scope.decision().map(|d| (d.label(), d.why));
    assert_eq!(decision, Some(("lab decision A14".to_owned(), LAB_A14.why)));
    assert_eq!(scope.texts().to_string(), "draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3.3, RFC 6749 §5.2");
    assert_eq!(scope.keyword(), None, "a decision shows its label, not a keyword");
    let jti = Citation::of(&[LAB_A2, MCP_SINGLE_USE, RFC7523_3_ITEM_7]);
    assert_eq!(jti.texts().to_string(), "MCP enterprise-managed authorization, RFC 7523 §3 item 7");
    assert_eq!(MCP_SINGLE_USE.label(), "MCP profile");
    let switch = Citation::from(&BREAK_IT);
    assert_eq!(switch.decision().map(Reference::label).as_deref(), Some("break-it switch"));
    assert!(switch.texts().is_empty() && switch.texts().to_string().is_empty());
}

#[test]
fn a_citation_without_a_decision_stays_quiet_unless_it_is_weaker_than_a_must() {
    let must = Citation::of(&[RFC9068_2_1, RFC9068_4]);
    assert_eq!((must.decision(), must.keyword()), (None, None));
    assert_eq!(must.texts().to_string(), must.to_string());
    assert_eq!(Citation::from(&IDJAG_10_1).keyword(), None, "a definition");
    assert_eq!(Citation::from(&IDJAG_7_1).keyword(), Some("SHOULD"));
    assert_eq!(Citation::from(&IDJAG_9_8_1_2_4).keyword(), Some("MAY"));
}

#[test]
fn an_export_carries_the_level_and_the_decision() {
    let scope = Citation::of(&[LAB_A14, IDJAG_4_3_3]);
    assert_eq!(
        serde_json::to_value(scope.labels()).unwrap(),
        serde_json::json!({
            "level": "lab decision",
            "decision": {
                "cites": "lab decision A14",
                "label": "lab decision A14",
                "title": LAB_A14.title,
                "why": LAB_A14.why,
            },
        })
    );
    let must = Citation::from(&IDJAG_3_1);
    assert_eq!(serde_json::to_value(must.labels()).unwrap(), serde_json::json!({ "level": "MUST" }));
}

/// Every lab decision, MCP-profile rule and post-04 change of the table, the way
/// `docs/lab-decisions.md` heads it: `## A14: A scope beyond the connection is refused`.
fn decision_heading(r: &Reference) -> String {
    format!("## {}: {}", r.section, r.title)
}

#[test]
fn docs_lab_decisions_lists_every_decision_of_the_table_and_no_other() {
    let doc = std::fs::read_to_string(workspace().join("docs/lab-decisions.md")).unwrap();
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("## ")).collect();
    for r in ALL.iter().filter(|r| matches!(r.doc, Doc::Lab | Doc::IdJagPost04)) {
        let heading = decision_heading(r);
        assert!(headings.contains(&heading.as_str()), "docs/lab-decisions.md has no heading {heading:?}");
        let section = doc.split(heading.as_str()).nth(1).and_then(|rest| rest.split("\n## ").next()).unwrap_or("");
        assert!(section.contains(r.why), "docs/lab-decisions.md: {} does not give its why {:?}", r.section, r.why);
    }
    for r in ALL.iter().filter(|r| r.level == Level::Profile) {
        assert!(doc.contains(r.title) && doc.contains(r.why), "docs/lab-decisions.md does not list {r}: {}", r.why);
    }
    // Every decision id the doc names (`A7`, `A14`…) is a row of the table.
    let known: HashSet<&str> = ALL.iter().filter(|r| r.doc == Doc::Lab).map(|r| r.section).collect();
    let mut unknown = Vec::new();
    for word in doc.split(|c: char| !c.is_ascii_alphanumeric()) {
        let id = word.strip_prefix('A').filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if id.is_some() && !known.contains(word) {
            unknown.push(word);
        }
    }
    assert!(unknown.is_empty(), "docs/lab-decisions.md names decisions not in xaa_core::spec: {unknown:?}");
}

/// The files whose text a learner reads: code, templates and docs (tests and comments aside).
fn shown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = workspace();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        walk(&krate.path().join("src"), &mut files);
        walk(&krate.path().join("templates"), &mut files);
    }
    walk(&root.join("docs"), &mut files);
    files.push(root.join("README.md"));
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let kind = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
        matches!(kind, "rs" | "html" | "md") && !name.ends_with("tests.rs") && name != "spec.rs"
    });
    files
}

/// The lines of `text` a reader sees: for Rust, code before the file's test module, comments aside.
fn shown_lines(path: &Path, text: &str) -> Vec<(usize, String)> {
    let rust = path.extension().is_some_and(|e| e == "rs");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if rust && line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        if rust && line.trim_start().starts_with("//") {
            continue;
        }
        out.push((i + 1, line.to_owned()));
    }
    out
}

#[test]
fn no_code_or_template_types_a_section_by_hand() {
    let mut typed = Vec::new();
    for path in shown_files().iter().filter(|p| p.extension().is_some_and(|e| e != "md")) {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in shown_lines(path, &text) {
            if line.contains('§') {
                typed.push(format!("{}:{n}: {}", path.display(), line.trim()));
            }
        }
    }
    assert!(typed.is_empty(), "cite xaa_core::spec instead of typing a section:\n{}", typed.join("\n"));
}

/// The document named just before a `§`, if any.
fn doc_before(before: &str) -> Option<Doc> {
    let b = before.trim_end();
    if let Some(pos) = b.rfind("RFC ")
        && let Ok(n) = b[pos + 4..].trim().parse::<u16>()
    {
        return Some(Doc::Rfc(n));
    }
    let named = |names: &[&str]| names.iter().any(|n| b.ends_with(n));
    if named(&["-04", "draft", "ID-JAG"]) {
        Some(Doc::IdJag)
    } else if named(&["OIDC Core"]) {
        Some(Doc::OidcCore)
    } else if named(&["RP-Initiated Logout 1.0"]) {
        Some(Doc::OidcLogout)
    } else if named(&["SAML 2.0 Core"]) {
        Some(Doc::Saml2Core)
    } else {
        None
    }
}

#[test]
fn every_section_the_docs_cite_is_in_the_table() {
    let mut unknown = Vec::new();
    for path in shown_files().iter().filter(|p| p.extension().is_some_and(|e| e == "md")) {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in shown_lines(path, &text) {
            let mut doc = None;
            for (at, _) in line.match_indices('§') {
                let before = &line[..at];
                // "RFC 9068 §2.1, §4": a bare section continues the document before it.
                doc = doc_before(before).or(if before.trim_end().ends_with(',') { doc } else { None });
                let section: String = line[at + '§'.len_utf8()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                let section = section.trim_end_matches('.');
                let known =
                    doc.is_some_and(|d| ALL.iter().any(|r| r.doc == d && r.section.split(' ').next() == Some(section)));
                if !known {
                    unknown.push(format!("{}:{n}: §{section} in {}", path.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "sections not in xaa_core::spec (name the document, or add the row):\n{}",
        unknown.join("\n")
    );
}
