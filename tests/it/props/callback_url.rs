//! `CallbackUrl::parse` (the pasted redirect URL, its query, or `code#state`): total on any
//! text, exact on every well-formed callback, refuses a repeated `code` or `state`, and never
//! puts the code or state of its input in an error.

use codex_profiler::engine::oauth::OAuthError;
use codex_profiler::engine::oauth::callback::CallbackUrl;
use proptest::prelude::*;

use super::config;
use super::strategies::{Callback, callback_input, code, hostile_text, state};

/// The error text and `Debug` of a refusal hold neither secret.
fn assert_quiet(e: &OAuthError, cb: &Callback) -> Result<(), TestCaseError> {
    for shown in [e.to_string(), format!("{e:?}")] {
        prop_assert!(!shown.contains(&cb.code), "code in {shown:?}");
        prop_assert!(!shown.contains(&cb.state), "state in {shown:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_any_text(s in hostile_text()) {
        if let Ok(cb) = CallbackUrl::parse(&s) {
            // Whatever it accepts is a code and a state of URL-safe characters.
            let ok = |v: &str| !v.is_empty()
                && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c));
            prop_assert!(ok(cb.code.expose_secret()) && ok(cb.state.expose_secret()));
        }
    }

    #[test]
    fn accepts_every_well_formed_callback_exactly(cb in callback_input()) {
        let got = CallbackUrl::parse(&cb.text);
        prop_assert!(got.is_ok(), "{:?} refused: {:?}", cb.text, got.err());
        let got = got.unwrap();
        prop_assert_eq!(got.code.expose_secret(), &cb.code);
        prop_assert_eq!(got.state.expose_secret(), &cb.state);
        // `Debug` of the parse hides both.
        let debug = format!("{got:?}");
        prop_assert!(!debug.contains(&cb.code) && !debug.contains(&cb.state), "{}", debug);
    }

    #[test]
    fn a_repeated_code_or_state_is_refused(
        cb in callback_input().prop_filter("has parameters", |cb| cb.text.contains('=')),
        again in prop_oneof![code().prop_map(|c| format!("code={c}")), state().prop_map(|s| format!("state={s}"))],
    ) {
        let text = format!("{}&{again}", cb.text.trim_end());
        let e = CallbackUrl::parse(&text);
        prop_assert!(matches!(e, Err(OAuthError::RepeatedParameter)), "{:?}: {:?}", text, e.as_ref().err());
        if let Err(e) = e {
            assert_quiet(&e, &cb)?;
        }
    }

    #[test]
    fn refusals_never_hold_the_code_or_the_state(
        cb in callback_input(),
        cut in any::<prop::sample::Index>(),
        junk in hostile_text(),
    ) {
        // Damage a good callback: junk spliced in at any byte boundary.
        let mut text = cb.text.clone();
        let at = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect::<Vec<_>>();
        text.insert_str(at[cut.index(at.len())], &junk);
        if let Err(e) = CallbackUrl::parse(&text) {
            assert_quiet(&e, &cb)?;
        }
    }
}
