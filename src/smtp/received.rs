//! The Received: header Exim adds to every message it receives, from
//! `received_header_text`, followed by "; " and the time.

use super::context::SessionContext;
use crate::expand;

/// The header line (with its final newline), or the expansion error.
pub fn received_header(ctx: &mut SessionContext<'_>, text: &str, received_for: Option<&str>) -> Result<String, String> {
    if let Some(r) = received_for {
        ctx.extra.insert("received_for".into(), r.to_string());
    }
    let expanded = expand::expand_string(text, ctx).map_err(|e| e.message().to_string())?;
    let stamp = chrono::Local::now().format("%a, %d %b %Y %H:%M:%S %z");
    Ok(format!("{expanded};\n\t{stamp}\n"))
}
