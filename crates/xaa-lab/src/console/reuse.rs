//! How the console shows a resource's ID-JAG re-use policy (lab decision A2): the admin page's
//! rows with their switch, and the line the explorer's step 3 shows beside the `jti` check.

use xaa_core::spec;
use xaa_resource_as::{ResourceReuse, ReusePolicy};

/// One resource's policy, as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReuseView {
    /// The resource.
    pub(crate) resource: String,
    /// `single use`, `re-usable until exp` or `single use (MCP profile)`.
    pub(crate) label: &'static str,
    /// The admin page's switch: the policy it sets, and its button; none for an MCP server.
    pub(crate) switch: Option<(&'static str, &'static str)>,
}

impl From<&ResourceReuse> for ReuseView {
    fn from(r: &ResourceReuse) -> Self {
        let switch = match (r.mcp, r.policy) {
            (true, _) => None,
            (false, ReusePolicy::SingleUse) => Some((ReusePolicy::ReusableUntilExp.name(), "Allow re-use until exp")),
            (false, ReusePolicy::ReusableUntilExp) => Some((ReusePolicy::SingleUse.name(), "Back to single use")),
        };
        Self { resource: r.resource.to_string(), label: r.label(), switch }
    }
}

/// The decision the policy rests on, as pages label it: `lab decision A2: One use per ID-JAG,
/// unless the resource allows re-use`.
pub(crate) fn decision() -> String {
    let a2 = &spec::LAB_A2;
    format!("{} {}: {}", a2.level.label(), a2.section, a2.title)
}

/// Why the lab decided so (the registry row's one line).
pub(crate) const WHY: &str = spec::LAB_A2.why;

#[cfg(test)]
mod tests {
    use xaa_core::ids::ResourceUri;

    use super::*;

    fn view(policy: ReusePolicy, mcp: bool) -> ReuseView {
        ReuseView::from(&ResourceReuse { resource: ResourceUri::new("http://api"), policy, mcp })
    }

    #[test]
    fn each_policy_offers_the_other_and_an_mcp_server_none() {
        let single = view(ReusePolicy::SingleUse, false);
        assert_eq!((single.label, single.switch), ("single use", Some(("reuse_until_exp", "Allow re-use until exp"))));
        let reusable = view(ReusePolicy::ReusableUntilExp, false);
        assert_eq!(
            (reusable.label, reusable.switch),
            ("re-usable until exp", Some(("single_use", "Back to single use")))
        );
        let mcp = view(ReusePolicy::SingleUse, true);
        assert_eq!((mcp.label, mcp.switch), ("single use (MCP profile)", None));
    }

    #[test]
    fn the_decision_is_labelled_as_one() {
        assert_eq!(decision(), "lab decision A2: One use per ID-JAG, unless the resource allows re-use");
        assert!(WHY.contains("the admin may allow re-use until exp per resource"));
    }
}
