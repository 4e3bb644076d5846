//! The plugin's fixed lists match the conversation core: every callback namespace the core
//! draws is routed to the plugin (a missing one would send that tap nowhere), and the
//! commands' names, menu texts and usage progress are the core's own.

use codex_profiler::chat::Conversation;
use codex_profiler::chat::callback::NAMESPACES;

fn plugin_source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openclaw-plugin/index.js");
    std::fs::read_to_string(path).expect("openclaw-plugin/index.js")
}

/// The quoted strings of `export const NAME = [ ... ];` in the plugin.
fn js_list(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("export const {name} = ["))
        .unwrap_or_else(|| panic!("{name} not found"));
    let body = &source[start..];
    let end = body.find("];").expect("end of list");
    body[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_callback_namespace_the_core_draws_is_registered() {
    // `callback::NAMESPACES` is checked against every button the core encodes (its unit
    // test); page, order, restore, doctor-fix and agent taps were once left unrouted.
    let mut core: Vec<String> = NAMESPACES.iter().map(|n| (*n).to_owned()).collect();
    core.sort();
    let mut plugin = js_list(&plugin_source(), "NAMESPACES");
    plugin.sort();
    assert_eq!(plugin, core);
}

#[test]
fn the_commands_are_the_cores_with_its_texts() {
    let source = plugin_source();
    let menu = Conversation::menu();
    let list = js_list(&source, "COMMANDS");
    for (name, description) in menu.iter().filter(|(n, _)| n.starts_with("codex_")) {
        let at = list
            .iter()
            .position(|s| s == name)
            .unwrap_or_else(|| panic!("/{name} is not registered by the plugin"));
        assert_eq!(&list[at + 1], description, "/{name}'s menu text");
    }
    let usage = list.iter().position(|s| s == "codex_usage").unwrap();
    assert_eq!(
        list[usage + 2],
        codex_profiler::chat::render::text("usage_progress")
    );
}
