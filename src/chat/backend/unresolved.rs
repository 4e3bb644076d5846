//! A selector that named no single profile, said in chat words: no match with its
//! suggestions, ambiguity with its candidates, an empty store. Rendered from the templates
//! (`selector_*.j2`), never with command-line flags.

use crate::chat::backend::BackendError;
use crate::chat::render::{self, Value, context};
use crate::engine::Failure;
use crate::engine::selector::SelectError;

/// A selector that named no single profile, said in chat words (no command-line flags), from
/// the templates. Every name it suggests or lists selects one profile when sent back.
pub(super) fn unresolved(e: SelectError) -> BackendError {
    let message = match &e {
        SelectError::Empty => render::text("selector_empty"),
        SelectError::NoProfiles => render::text("selector_no_profiles"),
        SelectError::NoMatch { given, suggestions } => {
            render::render("selector_no_match", context! { given, suggestions })
        }
        SelectError::Ambiguous { given, candidates } => {
            let candidates: Vec<Value> = candidates
                .iter()
                .map(|c| context! { id => c.id, label => c.label })
                .collect();
            render::render("selector_ambiguous", context! { given, candidates })
        }
    };
    BackendError {
        kind: e.kind(),
        code: e.code(),
        message: crate::secret::scrub_patterns(&message),
    }
}
