//! What the lab shows of the traffic between its components: the live trace (every request a
//! component received or sent, grouped into flows, bounded and secret-free), the recorder that
//! feeds it, the token inspector and CSV export. None of it is protocol: the roles know nothing of
//! it, and hand their checks over in each response's extensions (`xaa_core::validation::CheckLog`).

pub mod csv;
pub(crate) mod inspect;
pub(crate) mod recorder;
pub mod trace;
