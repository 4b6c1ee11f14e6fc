#![expect(unreachable_pub, reason = "test modules share helpers with pub items inside a private binary")]
//! The lab's end-to-end tests: one binary, real HTTP on loopback, real keys, real SQLite.
//! Every test starts its own lab on ephemeral ports through [`harness::TestLab`].

mod harness;

mod admin;
mod admin_browser;
mod authorize;
mod binary;
mod bounds;
mod break_it;
mod browser;
mod byor;
mod byor_browser;
mod byor_server;
mod byor_wizard;
mod classroom;
mod conformance;
mod connections;
mod console;
mod dcr;
mod dead_ends;
mod explorer_refresh;
mod explorer_state;
mod flow;
mod hardening;
mod idp_pages;
mod jwt_bearer;
mod layout;
mod mcp;
mod mcp_browser;
mod notes;
mod notes_browser;
mod public_host;
mod refresh_token;
mod reset;
mod reuse;
mod room_browser;
mod saml;
mod saml_admin;
mod saml_browser;
mod saml_console;
mod saml_interop;
mod saml_sp;
mod saml_sub_id;
mod tenants;
mod tenants_admin;
mod tenants_browser;
mod tls_browser;
mod todo_api;
mod token_exchange;
mod trace_browser;
mod xml_signature;
