//! # xaa-web: the browser-facing plumbing of the lab's web UIs
//!
//! The IdP's pages, Lab Notes and the lab console share what a browser needs and a protocol does
//! not:
//!
//! - [`cookie`]: the one way a component builds a cookie (HttpOnly, path `/`);
//! - [`csrf`]: one CSRF scheme for every form: the token a page shows ([`csrf::CsrfToken`]) and the
//!   form extractor that checks it ([`csrf::CsrfForm`]), bound to a cookie each component names;
//! - [`same_origin`]: the middleware refusing state-changing requests sent by a page of another
//!   origin (cookies on localhost ignore ports);
//! - [`redirect`]: a `303 See Other` that refuses a target a `Location` header cannot carry;
//! - [`not_found`]: what a server answers for a path it does not serve (a trailing-slash typo
//!   redirected, a styled page for a browser, JSON for a program), and each server's favicon;
//! - [`nosniff`]: `X-Content-Type-Options: nosniff` on every response of every server.
//!
//! It owns no page and no state: each component renders its own pages and keeps its own sessions.
//! It must never hold a protocol rule (those live in `xaa-core`).

pub mod cookie;
pub mod csrf;
pub mod nosniff;
pub mod not_found;
pub mod redirect;
pub mod same_origin;
