//! The secret sweep (issue 13, "Prove" 4) and the leaks it found.

mod regressions;
