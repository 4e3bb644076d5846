//! A disagreement between the layers of `layers`, as facts: a stable code, the rows it
//! concerns and the ids and times it names, so a chat can flag those rows and word it itself
//! (the CLI prints the sentence kept beside it).

use std::collections::BTreeMap;

use serde::Serialize;

/// One disagreement as facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Stable code.
    pub code: &'static str,
    /// The row keys it concerns.
    pub layers: Vec<&'static str>,
    /// The ids, times and names the sentence is made from.
    pub facts: BTreeMap<String, String>,
}

/// The disagreements found so far, each as a sentence and as a [`Conflict`].
#[derive(Default)]
pub(super) struct Found {
    pub(super) sentences: Vec<String>,
    pub(super) conflicts: Vec<Conflict>,
}

impl Found {
    pub(super) fn push(
        &mut self,
        code: &'static str,
        layers: &[&'static str],
        facts: &[(&str, &str)],
        sentence: String,
    ) {
        self.sentences.push(sentence);
        self.conflicts.push(Conflict {
            code,
            layers: layers.to_vec(),
            facts: facts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        });
    }
}
