//! Property-based tests of every parser that takes outside input (issue 13, "Prove" 1): each
//! file attacks one parser with generated input and checks what it promises for all of it.
//! A short round by default ([`config`]: 64 cases a property); `PROPTEST_CASES=N` selects a
//! long one (docs/TESTING.md). Generators shared by all of them live in [`strategies`].

mod regressions;
