//! The explorer's own check of a token response, as every requestor must run it: a `resource`
//! member must name only resources it asked for (post-04 candidate C1), else the token is
//! discarded and the next step cannot run.

use serde_json::Value;
use xaa_core::resource::{RESPONSE_CHECK_SPEC, check_response};
use xaa_core::validation::Check;

use super::StepRecord;

/// Checks the `resource` member of a successful token response against the one resource the
/// explorer asks for (`resource`: the todo API or its MCP server); a failure marks the step failed.
pub(super) fn check_resource(resource: &str, record: &mut StepRecord, body: Option<&Value>) {
    let Some(body) = body.filter(|_| record.ok) else { return };
    let (passed, detail) = match check_response(body, &[resource]) {
        Ok(found) => (true, found),
        Err(problem) => (false, problem.to_string()),
    };
    if !passed {
        record.ok = false;
        record.status = format!("{}, token discarded: resource not asked for", record.status);
    }
    record.client_checks.push(Check { name: "resource", passed, detail, spec: RESPONSE_CHECK_SPEC });
}
